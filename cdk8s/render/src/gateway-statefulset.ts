// StatefulSet `X-gateway`: gateway i talks to engine i, found through its pod index label. With
// spec.gateway.tls the Secret is mounted as a directory (never subPath, whose files the kubelet
// does not update) so the gateway sees a rotated certificate; it is not in the secrets checksum,
// so a rotation does not roll the pods.
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import { API_KEY_MOUNT, PORT, labels, names, selectorLabels } from '@veloz/api/names';
import { VARIABLES } from '@veloz/api/variables';
import { apiKeyRef } from './api-key-secret.ts';
import { engineTokenFiles } from './engine-token-secret.ts';
import { containerSecurity, httpsProbes, image, podIndexEnv, probes, tmpMount } from './container.ts';
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
  const tokens = engineTokenFiles(d, ['trading']);
  // A file, not a variable: a process environment is readable more widely than a file (ADR 14).
  const apiKeyVolume: k8s.Volume = {
    name: 'api-key',
    secret: { secretName: key.name, items: [{ key: key.key, path: 'apiKey' }], defaultMode: 0o440 },
  };
  const apiKeyMount: k8s.VolumeMount = { name: 'api-key', mountPath: API_KEY_MOUNT, readOnly: true };
  const tls = spec.gateway.tls;
  const sources = spec.gateway.allowedSourceRanges;
  const env: k8s.EnvVar[] = [
    podIndexEnv(),
    { name: VARIABLES.apiKeyFile.name, value: `${API_KEY_MOUNT}/apiKey` },
    ...tokens.env,
  ];
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
                  volumeMounts: [
                    tmpMount,
                    apiKeyMount,
                    tokens.mount,
                    ...(tls ? [{ name: 'tls', mountPath: TLS_DIR, readOnly: true }] : []),
                  ],
                  ...(tls ? httpsProbes : probes),
                },
              ],
              volumes: [
                tmpVolume,
                apiKeyVolume,
                tokens.volume,
                ...(tls
                  ? [
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
                  : []),
              ],
            }),
          },
        },
      }),
  );
}
