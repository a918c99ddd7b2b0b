// Headless Service `X-engine`: the stable DNS name of each engine (names().engineHost(i)).
import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { PORT, names, selectorLabels } from '@veloz/api/names';
import type { Desk, KubernetesObject } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';

export function engineService(d: Desk): KubernetesObject {
  return manifest((scope) => {
    const service = new kplus.Service(scope, 'engine-service', {
      metadata: objectMeta(d, names(d.metadata.name).engine, 'engine'),
      clusterIP: 'None',
      ports: [{ name: 'http', port: PORT, targetPort: PORT, protocol: kplus.Protocol.TCP }],
    });
    for (const [k, v] of Object.entries(selectorLabels(d.metadata.name, 'engine'))) service.selectLabel(k, v);
    // Engines resolve while they replay their WAL, so gateways, the operator and backups can reach
    // /health and /api/wal/status before the engine is ready.
    ApiObject.of(service).addJsonPatch(JsonPatch.add('/spec/publishNotReadyAddresses', true));
  });
}
