import { deskId } from '@veloz/api/client-order-id';
import { describe, expect, it } from 'vitest';
import { desk, type Manifest } from '@veloz/testing/desk';
import { engineStatefulSet } from './engine-statefulset.ts';

const CTX = {
  defaultImage: 'veloz:1',
  engineTokens: { trading: 't', admin: 'a', backup: 'b' },
  monitoringApiServed: false,
};

describe('engineStatefulSet', () => {
  it('runs one engine per pair with its WAL claim template', () => {
    const sts: Manifest = engineStatefulSet(desk('d1', { pairs: 3, wal: { storage: { size: '7Gi' } } }), CTX);
    expect(sts.metadata.name).toBe('d1-engine');
    expect(sts.spec.serviceName).toBe('d1-engine');
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.volumeClaimTemplates.map((t: Manifest) => [t.metadata.name, t.spec.resources])).toEqual([
      ['wal', { requests: { storage: '7Gi' } }],
    ]);
    const [engine] = sts.spec.template.spec.containers;
    expect([engine.image, engine.args]).toEqual(['veloz:1', ['engine', '--port', '8080']]);
    expect(engine.envFrom).toEqual([{ configMapRef: { name: 'd1-config' } }]);
  });

  it('takes exchange credentials only in live modes, from the referenced Secret', () => {
    const env = (sts: Manifest) => sts.spec.template.spec.containers[0].env.map((e: Manifest) => e.name);
    const base = [
      'NODE_OPTIONS',
      'VELOZ_DEPLOYMENT_NAME',
      'VELOZ_DESK_ID',
      'VELOZ_LEASE',
      'POD_NAME',
      'POD_UID',
      'VELOZ_LEASE_NAME',
      'VELOZ_LEASE_HOLDER',
      'VELOZ_LEASE_CREDENTIALS_DIR',
      'VELOZ_ENGINE_TOKEN_TRADING_FILE',
      'VELOZ_ENGINE_TOKEN_ADMIN_FILE',
      'VELOZ_ENGINE_TOKEN_BACKUP_FILE',
    ];
    expect(env(engineStatefulSet(desk('d1'), CTX))).toEqual(base);
    const live = desk('d1', {
      execution: { mode: 'binance_spot', credentialsSecretRef: { name: 'creds' } },
    });
    const sts: Manifest = engineStatefulSet(live, CTX);
    expect(env(sts)).toEqual([...base, 'VELOZ_BINANCE_API_KEY_FILE', 'VELOZ_BINANCE_API_SECRET_FILE']);
    // As files of a mounted Secret, never as variables.
    expect(sts.spec.template.spec.volumes.at(-1)).toEqual({
      name: 'binance',
      secret: {
        secretName: 'creds',
        items: [
          { key: 'apiKey', path: 'apiKey' },
          { key: 'apiSecret', path: 'apiSecret' },
        ],
        defaultMode: 0o440,
      },
    });
  });

  it('names the desk in client order ids, the same for the same namespace and name only', () => {
    const id = (ns: string, name: string) => {
      const d = desk(name);
      d.metadata.namespace = ns;
      const sts: Manifest = engineStatefulSet(d, CTX);
      return sts.spec.template.spec.containers[0].env.find((e: Manifest) => e.name === 'VELOZ_DESK_ID').value;
    };
    expect(id('prod', 'd1')).toBe(deskId('prod', 'd1'));
    expect(id('prod', 'd1')).toMatch(/^[a-z0-9]{6}$/);
    expect(id('staging', 'd1')).not.toBe(id('prod', 'd1'));
  });

  it('adds the restore init container and its volumes only when asked', () => {
    expect(
      (engineStatefulSet(desk('d1'), CTX) as Manifest).spec.template.spec.initContainers,
    ).toBeUndefined();
    const sts: Manifest = engineStatefulSet(
      desk('d1', { restore: { fromBackup: { source: '/backups' } } }),
      CTX,
    );
    expect(sts.spec.template.spec.initContainers.map((c: Manifest) => c.name)).toEqual(['restore']);
    expect(sts.spec.template.spec.volumes.map((v: Manifest) => v.name)).toEqual([
      'tmp',
      'engine-token',
      'kube-api-access',
      'backups',
    ]);
  });

  it('fences itself on its pair’s Lease with a token only the engine container mounts', () => {
    const d = desk('d1', { pairs: 2, restore: { fromBackup: { source: '/backups' } } });
    const sts: Manifest = engineStatefulSet(d, CTX);
    const pod = sts.spec.template.spec;
    expect(pod.serviceAccountName).toBe('d1-engine');
    expect(pod.automountServiceAccountToken).toBe(false);
    const [engine] = pod.containers;
    const env = Object.fromEntries(
      engine.env.map((e: Manifest) => [e.name, e.value ?? e.valueFrom.fieldRef.fieldPath]),
    );
    expect(env).toMatchObject({
      VELOZ_LEASE: 'true',
      POD_NAME: 'metadata.name',
      POD_UID: 'metadata.uid',
      // The pod's name is the Lease's, which the Role lists (engine-lease-rbac.ts).
      VELOZ_LEASE_NAME: '$(POD_NAME)',
      VELOZ_LEASE_HOLDER: '$(POD_NAME)_$(POD_UID)',
      VELOZ_LEASE_CREDENTIALS_DIR: '/var/run/secrets/kubernetes.io/serviceaccount',
    });
    // $(VAR) expands only variables defined before it.
    const names = engine.env.map((e: Manifest) => e.name);
    expect(names.indexOf('POD_UID')).toBeLessThan(names.indexOf('VELOZ_LEASE_HOLDER'));
    expect(engine.volumeMounts).toContainEqual({
      name: 'kube-api-access',
      mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
      readOnly: true,
    });
    const token = pod.volumes.find((v: Manifest) => v.name === 'kube-api-access');
    expect(token.projected.sources.map((s: Manifest) => Object.keys(s)[0])).toEqual([
      'serviceAccountToken',
      'configMap',
      'downwardAPI',
    ]);
    // The restore init container reads backups: it gets no API token.
    for (const c of pod.initContainers)
      expect(c.volumeMounts.map((m: Manifest) => m.name)).not.toContain('kube-api-access');
  });
});
