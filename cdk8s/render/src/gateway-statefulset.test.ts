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

  it('mounts the TLS Secret as a directory the gateway watches, and probes over HTTPS', () => {
    const sts: Manifest = gatewayStatefulSet(
      desk('d1', { gateway: { tls: { secretName: 'desk-cert' } } }),
      CTX,
    );
    const pod = sts.spec.template.spec;
    const [gw] = pod.containers;
    expect(gw.env).toEqual(
      expect.arrayContaining([
        { name: 'VELOZ_GATEWAY_TLS_CERT_FILE', value: '/etc/veloz/tls/tls.crt' },
        { name: 'VELOZ_GATEWAY_TLS_KEY_FILE', value: '/etc/veloz/tls/tls.key' },
      ]),
    );
    // No subPath: the kubelet updates a directory mount in place when the Secret is rotated.
    expect(gw.volumeMounts).toContainEqual({ name: 'tls', mountPath: '/etc/veloz/tls', readOnly: true });
    expect(pod.volumes).toContainEqual({
      name: 'tls',
      secret: {
        secretName: 'desk-cert',
        items: [
          { key: 'tls.crt', path: 'tls.crt' },
          { key: 'tls.key', path: 'tls.key' },
        ],
        defaultMode: 0o440,
      },
    });
    expect(gw.ports).toEqual([{ name: 'https', containerPort: 8080, protocol: 'TCP' }]);
    for (const p of ['startupProbe', 'livenessProbe', 'readinessProbe'])
      expect(gw[p].httpGet).toMatchObject({ port: 'https', scheme: 'HTTPS' });
  });

  it('passes the allowed source ranges to the gateway', () => {
    const sts: Manifest = gatewayStatefulSet(
      desk('d1', { gateway: { allowedSourceRanges: ['10.0.0.0/8', '2001:db8::/32'] } }),
      CTX,
    );
    expect(sts.spec.template.spec.containers[0].env).toContainEqual({
      name: 'VELOZ_GATEWAY_ALLOWED_SOURCES',
      value: '10.0.0.0/8,2001:db8::/32',
    });
  });

  it('serves plain HTTP without spec.gateway.tls', () => {
    const [gw] = (gatewayStatefulSet(desk('d1'), CTX) as Manifest).spec.template.spec.containers;
    expect(gw.readinessProbe.httpGet).toMatchObject({ port: 'http', scheme: 'HTTP' });
    expect(gw.env.map((e: { name: string }) => e.name)).not.toContain('VELOZ_GATEWAY_TLS_CERT_FILE');
  });
});
