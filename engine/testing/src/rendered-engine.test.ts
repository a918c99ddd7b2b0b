import { describe, expect, it } from 'vitest';
import { renderedEngineEnv, type EnvVar } from './rendered-engine.ts';

const sts = (env: EnvVar[]) => ({
  spec: { template: { spec: { containers: [{ name: 'engine', env }] } } },
});
const POD = { name: 'd1-engine-2', uid: 'u-1', namespace: 'ns' };

describe('renderedEngineEnv', () => {
  it('fills in the downward API and expands earlier variables as the kubelet does', () => {
    const env = renderedEngineEnv(
      sts([
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
        { name: 'HOLDER', value: '$(POD_NAME)_$(POD_UID)' },
        { name: 'LATER', value: '$(NEXT) $$(POD_NAME)' },
        { name: 'NEXT', value: 'n' },
        {
          name: 'POD_INDEX',
          valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } },
        },
      ]),
      { FROM_CONFIG: 'c' },
      POD,
    );
    expect(env).toEqual({
      FROM_CONFIG: 'c',
      POD_NAME: 'd1-engine-2',
      POD_UID: 'u-1',
      HOLDER: 'd1-engine-2_u-1',
      LATER: '$(NEXT) $(POD_NAME)',
      NEXT: 'n',
      POD_INDEX: '2',
    });
  });

  it('moves mounted paths to local directories, and refuses what it cannot provide', () => {
    const env = renderedEngineEnv(sts([{ name: 'F', value: '/var/run/x/token' }]), { W: '/wal' }, POD, {
      '/var/run/x': '/tmp/x',
      '/wal': '/tmp/wal',
    });
    expect(env).toEqual({ F: '/tmp/x/token', W: '/tmp/wal' });
    expect(() =>
      renderedEngineEnv(sts([{ name: 'S', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }]), {}, POD),
    ).toThrow(/S comes from something other than the downward API/);
  });
});
