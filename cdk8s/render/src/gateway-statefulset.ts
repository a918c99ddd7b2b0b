// StatefulSet `X-gateway`: gateway i talks to engine i, found through its pod index label.
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import { PORT, labels, names, selectorLabels } from '@veloz/api/names';
import { apiKeyRef } from './api-key-secret.ts';
import { containerSecurity, image, podIndexEnv, probes, secretEnv, tmpMount } from './container.ts';
import type { Desk, KubernetesObject, RenderContext } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';
import { podAnnotations, podSpec, tmpVolume } from './pod.ts';
import { kubeResources } from './quantity.ts';

export function gatewayStatefulSet(d: Desk, ctx: RenderContext): KubernetesObject {
  const x = d.metadata.name;
  const n = names(x);
  const spec = d.spec;
  const key = apiKeyRef(d);
  return manifest(
    (scope) =>
      new k8s.KubeStatefulSet(scope, 'gateway', {
        metadata: objectMeta(d, n.gateway, 'gateway'),
        spec: {
          serviceName: n.service,
          replicas: spec.pairs,
          podManagementPolicy: 'Parallel',
          updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
          revisionHistoryLimit: 10,
          selector: { matchLabels: selectorLabels(x, 'gateway') },
          template: {
            metadata: { labels: labels(x, 'gateway'), annotations: podAnnotations(d, ctx) },
            spec: podSpec(d, 'gateway', {
              containers: [
                {
                  name: 'gateway',
                  ...image(d, ctx),
                  args: [
                    'gateway',
                    '--port',
                    String(PORT),
                    '--engine-url',
                    n.engineUrl('$(POD_INDEX)'),
                    '--rate-limit',
                    String(spec.gateway.rateLimitPerSecond),
                  ],
                  ports: [{ name: 'http', containerPort: PORT, protocol: 'TCP' }],
                  envFrom: [{ configMapRef: { name: n.config } }],
                  env: [podIndexEnv(), secretEnv('VELOZ_API_KEY', key.name, key.key)],
                  resources: kubeResources(spec.gateway.resources),
                  securityContext: containerSecurity,
                  volumeMounts: [tmpMount],
                  ...probes,
                },
              ],
              volumes: [tmpVolume],
            }),
          },
        },
      }),
  );
}
