import { describe, expect, it } from 'vitest';
import { desk, type Manifest } from '@veloz/testing/desk';
import { gatewayStatefulSet } from './gateway-statefulset.ts';

const CTX = {
  defaultImage: 'veloz:1',
  engineTokens: { trading: 't', admin: 'a', backup: 'b' },
  monitoringApiServed: false,
};

describe('gatewayStatefulSet', () => {
  it('points gateway i at engine i and reads the API key from its Secret', () => {
    const sts: Manifest = gatewayStatefulSet(
      desk('d1', { pairs: 2, gateway: { rateLimitPerSecond: 9 } }),
      CTX,
    );
    expect(sts.metadata.name).toBe('d1-gateway');
    expect(sts.spec.replicas).toBe(2);
    const [gw] = sts.spec.template.spec.containers;
    expect(gw.args).toEqual([
      'gateway',
      '--port',
      '8080',
      '--engine-url',
      'http://d1-engine-$(POD_INDEX).d1-engine:8080',
      '--rate-limit',
      '9',
    ]);
    expect(gw.env[1]).toEqual({ name: 'VELOZ_API_KEY_FILE', value: '/var/run/secrets/veloz/api-key/apiKey' });
    expect(sts.spec.template.spec.volumes[1]).toEqual({
      name: 'api-key',
      secret: {
        secretName: 'd1-gateway-api-key',
        items: [{ key: 'apiKey', path: 'apiKey' }],
        defaultMode: 0o440,
      },
    });
  });

  it('uses spec.image over the default', () => {
    const sts: Manifest = gatewayStatefulSet(desk('d1', { image: 'mine:2', imagePullPolicy: 'Always' }), CTX);
    expect(sts.spec.template.spec.containers[0]).toMatchObject({
      image: 'mine:2',
      imagePullPolicy: 'Always',
    });
  });
});
