// Service `X`: the gateways, of the type and port the spec asks for; only the allowed source
// ranges through a load balancer.
import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { PORT, names, selectorLabels } from '@veloz/api/names';
import type { Desk, KubernetesObject } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';

export function gatewayService(d: Desk): KubernetesObject {
  const svc = d.spec.gateway.service;
  return manifest((scope) => {
    const service = new kplus.Service(scope, 'gateway-service', {
      metadata: objectMeta(d, names(d.metadata.name).service, 'gateway', { annotations: svc.annotations }),
      type: svc.type as kplus.ServiceType,
      ports: [
        {
          name: d.spec.gateway.tls ? 'https' : 'http',
          port: svc.port,
          targetPort: PORT,
          protocol: kplus.Protocol.TCP,
        },
      ],
    });
    for (const [k, v] of Object.entries(selectorLabels(d.metadata.name, 'gateway')))
      service.selectLabel(k, v);
    // Each pair has its own engine state: keep a client on one pair.
    const api = ApiObject.of(service);
    api.addJsonPatch(JsonPatch.add('/spec/sessionAffinity', 'ClientIP'));
    const sources = d.spec.gateway.allowedSourceRanges;
    // The cloud's load balancer filters these ranges; Local keeps the client's address all the
    // way to the gateway (no SNAT to a node), which its own check and the NetworkPolicy need.
    if (sources && svc.type === 'LoadBalancer')
      api.addJsonPatch(JsonPatch.add('/spec/loadBalancerSourceRanges', sources));
    if (sources && svc.type !== 'ClusterIP')
      api.addJsonPatch(JsonPatch.add('/spec/externalTrafficPolicy', 'Local'));
  });
}
