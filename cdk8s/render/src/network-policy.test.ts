import { describe, expect, it } from 'vitest';
import { desk, type Manifest } from '@veloz/testing/desk';
import { engineNetworkPolicy } from './network-policy.ts';

const CTX = {
  defaultImage: 'veloz:1',
  engineTokens: { trading: 't', admin: 'a', backup: 'b' },
  monitoringApiServed: false,
};

describe('engineNetworkPolicy', () => {
  it('admits gateways, backup jobs, the operator and scrapers on the engine port only', () => {
    const np: Manifest = engineNetworkPolicy(desk('d1'), CTX);
    expect(np.metadata.name).toBe('d1-engine');
    const [rule] = np.spec.ingress;
    expect(rule.ports).toEqual([{ protocol: 'TCP', port: 8080 }]);
    expect(
      rule.from.map(
        (p: Manifest) =>
          p.podSelector.matchLabels['app.kubernetes.io/component'] ??
          p.podSelector.matchLabels['app.kubernetes.io/name'],
      ),
    ).toEqual(['gateway', 'backup', 'veloz-operator', 'prometheus']);
  });

  it('takes the operator and scraper selectors from the context', () => {
    const np: Manifest = engineNetworkPolicy(desk('d1'), {
      ...CTX,
      operatorPods: { podLabels: { app: 'op' }, namespaceLabels: { ns: 'ops' } },
    });
    expect(np.spec.ingress[0].from[2]).toEqual({
      podSelector: { matchLabels: { app: 'op' } },
      namespaceSelector: { matchLabels: { ns: 'ops' } },
    });
  });
});
