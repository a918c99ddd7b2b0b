// NetworkPolicy `X-gateway`, made only with spec.gateway.allowedSourceRanges: the gateways take
// connections from those ranges and from the metrics scrapers, nothing else. Where the CNI
// enforces it, this holds in front of the gateway's own check; the kubelet's probes are always
// admitted (NetworkPolicy never applies to the pod's own node).
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import { PORT, names, selectorLabels } from '@veloz/api/names';
import type { Desk, KubernetesObject, RenderContext } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';
import { DEFAULT_SCRAPER_PODS, peer } from './network-policy.ts';

export function gatewayNetworkPolicy(d: Desk, ctx: RenderContext): KubernetesObject | undefined {
  const sources = d.spec.gateway.allowedSourceRanges;
  if (!sources) return undefined;
  const x = d.metadata.name;
  const scraper = d.spec.monitoring.scraper ?? ctx.scraperPods ?? DEFAULT_SCRAPER_PODS;
  return manifest(
    (scope) =>
      new k8s.KubeNetworkPolicy(scope, 'gateway-network-policy', {
        metadata: objectMeta(d, names(x).gateway, 'gateway'),
        spec: {
          podSelector: { matchLabels: selectorLabels(x, 'gateway') },
          policyTypes: ['Ingress'],
          ingress: [
            {
              from: [...sources.map((cidr) => ({ ipBlock: { cidr } })), peer(scraper)],
              ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(PORT) }],
            },
          ],
        },
      }),
  );
}
