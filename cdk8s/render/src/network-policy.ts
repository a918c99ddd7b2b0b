// NetworkPolicy `X-engine`: only the gateways, the backup jobs, the operator and the metrics
// scrapers reach the engines.
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import { PORT, names, selectorLabels } from '@veloz/api/names';
import type { Desk, KubernetesObject, PeerSelector, RenderContext } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';

export const DEFAULT_OPERATOR_PODS: PeerSelector = {
  podLabels: { 'app.kubernetes.io/name': 'veloz-operator' },
};
export const DEFAULT_SCRAPER_PODS: PeerSelector = { podLabels: { 'app.kubernetes.io/name': 'prometheus' } };

const peer = (p: PeerSelector): k8s.NetworkPolicyPeer => ({
  podSelector: { matchLabels: p.podLabels },
  namespaceSelector: { matchLabels: p.namespaceLabels },
});

export function engineNetworkPolicy(d: Desk, ctx: RenderContext): KubernetesObject {
  const x = d.metadata.name;
  return manifest(
    (scope) =>
      new k8s.KubeNetworkPolicy(scope, 'network-policy', {
        metadata: objectMeta(d, names(x).engine, 'engine'),
        spec: {
          podSelector: { matchLabels: selectorLabels(x, 'engine') },
          policyTypes: ['Ingress'],
          ingress: [
            {
              from: [
                { podSelector: { matchLabels: selectorLabels(x, 'gateway') } },
                { podSelector: { matchLabels: selectorLabels(x, 'backup') } },
                peer(ctx.operatorPods ?? DEFAULT_OPERATOR_PODS),
                peer(ctx.scraperPods ?? DEFAULT_SCRAPER_PODS),
              ],
              ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(PORT) }],
            },
          ],
        },
      }),
  );
}
