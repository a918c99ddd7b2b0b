import { describe, expect, it } from 'vitest';
import { desk, type Manifest } from '@veloz/testing/desk';
import { gatewayNetworkPolicy } from './gateway-network-policy.ts';

const CTX = { defaultImage: 'veloz:1', monitoringApiServed: false };

describe('gatewayNetworkPolicy', () => {
  it('is made only with allowed source ranges', () => {
    expect(gatewayNetworkPolicy(desk('d1'), CTX)).toBeUndefined();
  });

  it('admits the ranges and the scrapers on the gateway port only', () => {
    const np = gatewayNetworkPolicy(
      desk('d1', { gateway: { allowedSourceRanges: ['203.0.113.0/24', '2001:db8::/32'] } }),
      CTX,
    ) as Manifest;
    expect(np.metadata.name).toBe('d1-gateway');
    expect(np.spec.podSelector.matchLabels).toMatchObject({
      'app.kubernetes.io/instance': 'd1',
      'app.kubernetes.io/component': 'gateway',
    });
    expect(np.spec.policyTypes).toEqual(['Ingress']);
    const [rule] = np.spec.ingress;
    expect(rule.ports).toEqual([{ protocol: 'TCP', port: 8080 }]);
    expect(rule.from).toEqual([
      { ipBlock: { cidr: '203.0.113.0/24' } },
      { ipBlock: { cidr: '2001:db8::/32' } },
      // The engine policy's scraper peer: its namespace by name and its pod labels together.
      {
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
      },
    ]);
  });
});
