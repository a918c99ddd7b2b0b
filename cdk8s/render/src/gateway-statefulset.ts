// StatefulSet `X-gateway`: gateway i talks to engine i, found through its pod index label. With
// spec.gateway.tls the Secret is mounted as a directory (never subPath, whose files the kubelet
// does not update) so the gateway sees a rotated certificate; it is not in the secrets checksum,
// so a rotation does not roll the pods.
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import { PORT, labels, names, selectorLabels } from '@veloz/api/names';
import { apiKeyRef } from './api-key-secret.ts';
import {
  containerSecurity,
  httpsProbes,
  image,
  podIndexEnv,
  probes,
  secretEnv,
  tmpMount,
} from './container.ts';
import type { Desk, KubernetesObject, RenderContext } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';
import { podAnnotations, podSpec, tmpVolume } from './pod.ts';
import { kubeResources } from './quantity.ts';

/** Where the gateway reads its certificate and key. */
export const TLS_DIR = '/etc/veloz/tls';

export function gatewayStatefulSet(d: Desk, ctx: RenderContext): KubernetesObject {
  const x = d.metadata.name;
  const n = names(x);
  const spec = d.spec;
  const key = apiKeyRef(d);
  const tls = spec.gateway.tls;
  const sources = spec.gateway.allowedSourceRanges;
  const env = [podIndexEnv(), secretEnv('VELOZ_API_KEY', key.name, key.key)];
  if (tls)
    env.push(
      { name: 'VELOZ_GATEWAY_TLS_CERT_FILE', value: `${TLS_DIR}/tls.crt` },
      { name: 'VELOZ_GATEWAY_TLS_KEY_FILE', value: `${TLS_DIR}/tls.key` },
    );
  if (sources) env.push({ name: 'VELOZ_GATEWAY_ALLOWED_SOURCES', value: sources.join(',') });
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
                  ports: [{ name: tls ? 'https' : 'http', containerPort: PORT, protocol: 'TCP' }],
                  envFrom: [{ configMapRef: { name: n.config } }],
                  env,
                  resources: kubeResources(spec.gateway.resources),
                  securityContext: containerSecurity,
                  volumeMounts: tls
                    ? [tmpMount, { name: 'tls', mountPath: TLS_DIR, readOnly: true }]
                    : [tmpMount],
                  ...(tls ? httpsProbes : probes),
                },
              ],
              volumes: tls
                ? [
                    tmpVolume,
                    {
                      name: 'tls',
                      secret: {
                        secretName: tls.secretName,
                        items: [
                          { key: 'tls.crt', path: 'tls.crt' },
                          { key: 'tls.key', path: 'tls.key' },
                        ],
                        defaultMode: 0o440,
                      },
                    },
                  ]
                : [tmpVolume],
            }),
          },
        },
      }),
  );
}
