import { describe, expect, it } from 'vitest';
import { desk, type Manifest } from '@veloz/testing/desk';
import { gatewayCertificate } from './gateway-certificate.ts';
import { render } from './render.ts';
import { toYaml } from './synth.ts';

const CTX = {
  defaultImage: 'veloz:1',
  monitoringApiServed: false,
  apiKey: 'k',
  engineTokens: { trading: 't', admin: 'a', backup: 'b' },
};
const withIssuer = () =>
  desk('d1', {
    gateway: {
      tls: {
        secretName: 'd1-tls',
        issuerRef: { name: 'letsencrypt', kind: 'ClusterIssuer' },
        dnsNames: ['desk.example.com', 'd1.trading.svc'],
      },
    },
  });

describe('gatewayCertificate', () => {
  it('is made only with spec.gateway.tls.issuerRef', () => {
    expect(gatewayCertificate(desk('d1'))).toBeUndefined();
    expect(gatewayCertificate(desk('d1', { gateway: { tls: { secretName: 'mine' } } }))).toBeUndefined();
  });

  it('writes the mounted Secret for the Service’s names and the user’s, issued by the given issuer', async () => {
    const c = gatewayCertificate(withIssuer()) as Manifest;
    expect(c.metadata.name).toBe('d1-gateway');
    expect(c.spec.secretName).toBe('d1-tls');
    expect(c.spec.issuerRef).toEqual({
      name: 'letsencrypt',
      kind: 'ClusterIssuer',
      group: 'cert-manager.io',
    });
    // A name the user repeats is listed once.
    expect(c.spec.dnsNames).toEqual([
      'd1',
      'd1.trading',
      'd1.trading.svc',
      'd1.trading.svc.cluster.local',
      'desk.example.com',
    ]);
    expect(c.metadata.ownerReferences).toMatchObject([
      { kind: 'VelozDeployment', name: 'd1', controller: true },
    ]);
    await expect(toYaml([c])).toMatchFileSnapshot('__snapshots__/gateway-certificate.yaml');
  });

  it('is rendered only where cert-manager.io/v1 is served', () => {
    const kinds = (served: boolean) =>
      render(withIssuer(), { ...CTX, certManagerApiServed: served })
        .filter((o) => o.kind === 'Certificate')
        .map((o) => o.metadata.name);
    expect(kinds(true)).toEqual(['d1-gateway']);
    expect(kinds(false)).toEqual([]);
  });
});
