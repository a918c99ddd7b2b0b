// StatefulSet `X-engine`: one engine per pair, each with its WAL volume claim (template `wal`),
// its credentials from the referenced Secret, and the restore init container when asked.
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import { VARIABLES } from '@veloz/api/variables';
import { deskId } from '@veloz/api/client-order-id';
import { engineNodeOptions } from '@veloz/api/engine-node-options';
import {
  BINANCE_MOUNT,
  PORT,
  POSTGRES_MOUNT,
  WAL_MOUNT,
  labels,
  names,
  selectorLabels,
} from '@veloz/api/names';
import { heapMiB } from './config.ts';
import { containerSecurity, image, probes, tmpMount } from './container.ts';
import type { Desk, KubernetesObject, RenderContext } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';
import { podAnnotations, podSpec, tmpVolume } from './pod.ts';
import { kubeResources, q } from './quantity.ts';
import { restoreInitContainer } from './restore-init-container.ts';
import { engineTokenFiles } from './engine-token-secret.ts';

const SA_TOKEN_VOLUME = 'kube-api-access';
const SA_TOKEN_MOUNT = VARIABLES.leaseCredentialsDir.default;

/**
 * What automountServiceAccountToken would mount (a rotated, audience-bound token, the cluster's CA
 * and the namespace), as a volume of its own so that it is mounted into the engine container only.
 */
const serviceAccountTokenVolume: k8s.Volume = {
  name: SA_TOKEN_VOLUME,
  projected: {
    defaultMode: 0o440,
    sources: [
      { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      {
        downwardApi: {
          items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
        },
      },
    ],
  },
};

const fieldEnv = (name: string, fieldPath: string): k8s.EnvVar => ({
  name,
  valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } },
});

export function engineStatefulSet(d: Desk, ctx: RenderContext): KubernetesObject {
  const x = d.metadata.name;
  const n = names(x);
  const spec = d.spec;
  const creds = spec.execution.mode === 'sim_engine' ? undefined : spec.execution.credentialsSecretRef;
  const env: k8s.EnvVar[] = [
    { name: 'NODE_OPTIONS', value: engineNodeOptions(heapMiB(spec.engine.memoryPoolSize)) },
    // Names the PostgreSQL table the engine ships to; explicit rather than parsed from the host name.
    { name: VARIABLES.deploymentName.name, value: x },
    // Client order ids name the desk and the pair (ADR 0018); the pair comes from the pod's name.
    { name: VARIABLES.deskId.name, value: deskId(d.metadata.namespace ?? 'default', x) },
    // Self-fencing (ADR 0018): the pair's Lease is named as its pod, which the Role X-engine-lease
    // lists; the holder is the pod's name and uid, so a replacement pod is another holder.
    { name: VARIABLES.lease.name, value: 'true' },
    fieldEnv('POD_NAME', 'metadata.name'),
    fieldEnv('POD_UID', 'metadata.uid'),
    { name: VARIABLES.leaseName.name, value: '$(POD_NAME)' },
    { name: VARIABLES.leaseHolder.name, value: '$(POD_NAME)_$(POD_UID)' },
    // Where the volume below is mounted; the engine's default too, named so the two cannot part.
    { name: VARIABLES.leaseCredentialsDir.name, value: SA_TOKEN_MOUNT },
  ];
  const tokens = engineTokenFiles(d, ['trading', 'admin', 'backup']);
  env.push(...tokens.env);
  const volumes: k8s.Volume[] = [tmpVolume, tokens.volume, serviceAccountTokenVolume];
  const mounts: k8s.VolumeMount[] = [
    { name: 'wal', mountPath: WAL_MOUNT },
    tmpMount,
    tokens.mount,
    // Only the engine container gets an API token: not the restore init container, nor any other pod.
    { name: SA_TOKEN_VOLUME, mountPath: SA_TOKEN_MOUNT, readOnly: true },
  ];
  if (creds) {
    // Files, not variables: a process environment is readable more widely than a file (ADR 14).
    env.push(
      { name: VARIABLES.binanceApiKeyFile.name, value: `${BINANCE_MOUNT}/apiKey` },
      { name: VARIABLES.binanceApiSecretFile.name, value: `${BINANCE_MOUNT}/apiSecret` },
    );
    volumes.push({
      name: 'binance',
      secret: {
        secretName: creds.name,
        items: [
          { key: creds.apiKeyKey, path: 'apiKey' },
          { key: creds.apiSecretKey, path: 'apiSecret' },
        ],
        defaultMode: 0o440,
      },
    });
    mounts.push({ name: 'binance', mountPath: BINANCE_MOUNT, readOnly: true });
  }
  const pg = spec.wal.postgres?.secretRef;
  if (pg) {
    volumes.push({
      name: 'postgres',
      secret: { secretName: pg.name, items: [{ key: pg.key, path: 'uri' }], defaultMode: 0o440 },
    });
    mounts.push({ name: 'postgres', mountPath: POSTGRES_MOUNT, readOnly: true });
  }
  const restore = restoreInitContainer(d, ctx);
  if (restore) volumes.push(...restore.volumes);

  return manifest(
    (scope) =>
      new k8s.KubeStatefulSet(scope, 'engine', {
        metadata: objectMeta(d, n.engine, 'engine'),
        spec: {
          serviceName: n.engine,
          replicas: spec.pairs,
          // Pairs are independent: one slow WAL replay must not hold back the others.
          podManagementPolicy: 'Parallel',
          updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
          revisionHistoryLimit: 10,
          selector: { matchLabels: selectorLabels(x, 'engine') },
          persistentVolumeClaimRetentionPolicy: {
            whenDeleted: spec.wal.storage.retainOnDelete ? 'Retain' : 'Delete',
            // Scaling down (and pairs: 0) always keeps the WAL: scaling up again resumes it.
            whenScaled: 'Retain',
          },
          volumeClaimTemplates: [
            {
              metadata: { name: n.walClaimTemplate, labels: labels(x, 'engine') },
              spec: {
                accessModes: ['ReadWriteOnce'],
                storageClassName: spec.wal.storage.storageClassName,
                volumeMode: 'Filesystem',
                resources: { requests: { storage: q(spec.wal.storage.size) } },
              },
            },
          ],
          template: {
            metadata: { labels: labels(x, 'engine'), annotations: podAnnotations(d, ctx) },
            spec: podSpec(d, 'engine', {
              serviceAccountName: n.engineServiceAccount,
              initContainers: restore ? [restore.container] : undefined,
              containers: [
                {
                  name: 'engine',
                  // No command anywhere: the image's entrypoint (tini -- node veloz.js) runs the
                  // args, so tini is PID 1 and forwards signals; there is no `veloz` on its PATH.
                  ...image(d, ctx),
                  args: ['engine', '--port', String(PORT)],
                  ports: [{ name: 'http', containerPort: PORT, protocol: 'TCP' }],
                  envFrom: [{ configMapRef: { name: n.config } }],
                  env,
                  resources: kubeResources(spec.engine.resources),
                  securityContext: containerSecurity,
                  volumeMounts: mounts,
                  ...probes,
                },
              ],
              volumes,
            }),
          },
        },
      }),
  );
}
