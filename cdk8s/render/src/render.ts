// render(): the desired state of one VelozDeployment (DESIGN §4), as plain Kubernetes objects.
// Pure and deterministic: everything it depends on comes in through the CR and `ctx`; no clock,
// randomness or environment. cdk8s-plus-27 builds the objects whose L2 constructs map one-to-one
// (ServiceAccount, ConfigMap, Services); the typed L1 imports shipped with cdk8s-plus-27 build the
// rest, where the L2 constructs would add hashed labels, lossy quantities or miss fields
// (docs/adr/0003-crds-and-render.md).
import { ApiObject, App, Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import { VARIABLES } from '@veloz/api/variables';
import { alertRules } from './alerts.ts';
import { checksum, configData, heapMiB } from './config.ts';
import { API_VERSION } from '@veloz/api/crd/crds';
import { applyDefaults } from '@veloz/api/crd/defaults';
import { VELOZ_DEPLOYMENT } from '@veloz/api/crd/crds';
import type {
  BackupS3,
  ResourceAmounts,
  ResourceRequirements,
  VelozDeployment,
  VelozDeploymentSpec,
} from '@veloz/api/generated/types';
import {
  BACKUP_MOUNT,
  PORT,
  POSTGRES_MOUNT,
  RUN_AS,
  WAL_MOUNT,
  labels,
  names,
  selectorLabels,
} from '@veloz/api/names';
import type { Component } from '@veloz/api/names';

export interface RenderContext {
  /** The operator's own image: the default of spec.image, so versions always match. */
  defaultImage: string;
  /**
   * Value of the generated API key (Secret `X-gateway-api-key`); must be given unless
   * spec.gateway.apiKeySecretRef is set, and is then ignored. Generated once by the caller.
   */
  apiKey?: string;
  /** Whether monitoring.coreos.com/v1 is served (ServiceMonitor and PrometheusRule). */
  monitoringApiServed: boolean;
  /**
   * Hash of the data of every referenced Secret (credentials, API key, PostgreSQL): a pod
   * template annotation, so a changed Secret rolls the pods. Never the values themselves.
   */
  secretsHash?: string;
  /** Pods allowed to reach the engines' admin API besides gateways and backup jobs. */
  operatorPods?: PeerSelector;
  /** Metrics scrapers allowed to reach the engines. */
  scraperPods?: PeerSelector;
}

export interface PeerSelector {
  podLabels: Record<string, string>;
  /** Labels of the namespace; any namespace when absent. */
  namespaceLabels?: Record<string, string>;
}

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<Record<string, unknown>>;
  };
  [field: string]: unknown;
}

export const CONFIG_CHECKSUM_ANNOTATION = 'veloz.io/config-checksum';
export const SECRETS_CHECKSUM_ANNOTATION = 'veloz.io/secrets-checksum';

const DEFAULT_OPERATOR_PODS: PeerSelector = { podLabels: { 'app.kubernetes.io/name': 'veloz-operator' } };
const DEFAULT_SCRAPER_PODS: PeerSelector = { podLabels: { 'app.kubernetes.io/name': 'prometheus' } };

const q = (v: string | number) =>
  typeof v === 'number' ? k8s.Quantity.fromNumber(v) : k8s.Quantity.fromString(v);

function kubeResources(r: ResourceRequirements): k8s.ResourceRequirements {
  const amounts = (a: ResourceAmounts | undefined) => {
    if (!a) return undefined;
    const out: Record<string, k8s.Quantity> = {};
    for (const [key, v] of Object.entries(a).sort(([k1], [k2]) => k1.localeCompare(k2)))
      if (v !== undefined) out[key] = q(v);
    return out;
  };
  return { requests: amounts(r.requests), limits: amounts(r.limits) };
}

const containerSecurity: k8s.SecurityContext = {
  allowPrivilegeEscalation: false,
  privileged: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: RUN_AS,
  runAsGroup: RUN_AS,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

const podSecurity: k8s.PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: RUN_AS,
  runAsGroup: RUN_AS,
  fsGroup: RUN_AS,
  fsGroupChangePolicy: 'OnRootMismatch',
  seccompProfile: { type: 'RuntimeDefault' },
};

const tmpVolume: k8s.Volume = { name: 'tmp', emptyDir: { sizeLimit: q('256Mi') } };
const tmpMount: k8s.VolumeMount = { name: 'tmp', mountPath: '/tmp' };

const httpProbe = (path: string, extra: Omit<k8s.Probe, 'httpGet'>): k8s.Probe => ({
  httpGet: { path, port: k8s.IntOrString.fromString('http'), scheme: 'HTTP' },
  timeoutSeconds: 2,
  ...extra,
});

// Seeds: liveness /health after 10s every 5s, readiness every 3s; /ready instead of /health for
// readiness, and a startup probe long enough for a large WAL replay (up to 5 minutes).
const probes = {
  startupProbe: httpProbe('/health', { periodSeconds: 2, failureThreshold: 150 }),
  livenessProbe: httpProbe('/health', { initialDelaySeconds: 10, periodSeconds: 5, failureThreshold: 3 }),
  readinessProbe: httpProbe('/ready', { initialDelaySeconds: 5, periodSeconds: 3, failureThreshold: 2 }),
};

const secretEnv = (name: string, secret: string, key: string): k8s.EnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key } },
});

/**
 * What `veloz backup` and `veloz restore` read for an s3:// location (the SDK's own variables),
 * so the backup CronJob and the restore init container reach the bucket the same way.
 */
function s3Env(s3: BackupS3 | undefined): k8s.EnvVar[] {
  const env: k8s.EnvVar[] = [];
  if (s3?.region) env.push({ name: 'AWS_REGION', value: s3.region });
  if (s3?.endpoint) env.push({ name: 'AWS_ENDPOINT_URL_S3', value: s3.endpoint });
  if (s3?.credentialsSecretRef) {
    const c = s3.credentialsSecretRef;
    env.push(
      secretEnv('AWS_ACCESS_KEY_ID', c.name, c.accessKeyIdKey),
      secretEnv('AWS_SECRET_ACCESS_KEY', c.name, c.secretAccessKeyKey),
    );
  }
  return env;
}

/**
 * The objects of one VelozDeployment, in a stable order. The CR may come straight from a file:
 * schema defaults are applied first, exactly as the API server would.
 */
export function render(deployment: VelozDeployment, ctx: RenderContext): KubernetesObject[] {
  const cr = applyDefaults(VELOZ_DEPLOYMENT.schema, deployment);
  const x = cr.metadata.name;
  if (!x) throw new Error('VelozDeployment has no metadata.name');
  const spec: VelozDeploymentSpec = cr.spec;
  const n = names(x);
  const namespace = cr.metadata.namespace;
  const image = spec.image ?? ctx.defaultImage;
  const pullPolicy = spec.imagePullPolicy;
  const pairs = spec.pairs;

  const owner: k8s.OwnerReference[] | undefined = cr.metadata.uid
    ? [
        {
          apiVersion: API_VERSION,
          kind: 'VelozDeployment',
          name: x,
          uid: cr.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]
    : undefined;
  const meta = (
    name: string,
    component: Component,
    extra: { labels?: Record<string, string>; annotations?: Record<string, string>; owned?: boolean } = {},
  ): k8s.ObjectMeta => ({
    name,
    namespace,
    labels: labels(x, component, extra.labels),
    annotations:
      extra.annotations && Object.keys(extra.annotations).length > 0 ? extra.annotations : undefined,
    ownerReferences: extra.owned === false ? undefined : owner,
  });

  const app = new App();
  const chart = new Chart(app, x, { disableResourceNameHashes: true });

  // ServiceAccount: no API access needed by engines, gateways or backup jobs.
  new kplus.ServiceAccount(chart, 'service-account', {
    metadata: meta(n.serviceAccount, 'service-account'),
    automountToken: false,
  });

  // API key Secret, unless the user brings their own.
  const apiKeyRef = spec.gateway.apiKeySecretRef ?? { name: n.apiKeySecret, key: 'apiKey' };
  if (!spec.gateway.apiKeySecretRef) {
    if (ctx.apiKey === undefined)
      throw new Error('ctx.apiKey is required when spec.gateway.apiKeySecretRef is absent');
    new k8s.KubeSecret(chart, 'api-key', {
      metadata: meta(n.apiKeySecret, 'api-key'),
      type: 'Opaque',
      data: { apiKey: Buffer.from(ctx.apiKey, 'utf8').toString('base64') },
    });
  }

  const data = configData(spec);
  new kplus.ConfigMap(chart, 'config', { metadata: meta(n.config, 'config'), data });
  const podAnnotations: Record<string, string> = { [CONFIG_CHECKSUM_ANNOTATION]: checksum(data) };
  if (ctx.secretsHash) podAnnotations[SECRETS_CHECKSUM_ANNOTATION] = ctx.secretsHash;

  const podSpec = (component: Component, spec: Omit<k8s.PodSpec, 'securityContext'>): k8s.PodSpec => ({
    serviceAccountName: n.serviceAccount,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: podSecurity,
    terminationGracePeriodSeconds: 30,
    ...spec,
    // Spread pairs over nodes when the cluster has several; never block scheduling on one node.
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: selectorLabels(x, component) },
      },
    ],
  });

  // Engines.
  const creds = spec.execution.mode === 'sim_engine' ? undefined : spec.execution.credentialsSecretRef;
  const engineEnv: k8s.EnvVar[] = [
    { name: 'NODE_OPTIONS', value: `--max-old-space-size=${heapMiB(spec.engine.memoryPoolSize)}` },
    // Names the PostgreSQL table the engine ships to; explicit rather than parsed from the host name.
    { name: VARIABLES.deploymentName.name, value: x },
  ];
  if (creds) {
    engineEnv.push(
      secretEnv('VELOZ_BINANCE_API_KEY', creds.name, creds.apiKeyKey),
      secretEnv('VELOZ_BINANCE_API_SECRET', creds.name, creds.apiSecretKey),
    );
  }
  const engineVolumes: k8s.Volume[] = [tmpVolume];
  const engineMounts: k8s.VolumeMount[] = [{ name: 'wal', mountPath: WAL_MOUNT }, tmpMount];
  const pg = spec.wal.postgres?.secretRef;
  if (pg) {
    engineVolumes.push({
      name: 'postgres',
      secret: { secretName: pg.name, items: [{ key: pg.key, path: 'uri' }], defaultMode: 0o440 },
    });
    engineMounts.push({ name: 'postgres', mountPath: POSTGRES_MOUNT, readOnly: true });
  }

  const destination = spec.backup.destination;
  const backupClaim = destination.volume?.claimName ?? (destination.volume?.size ? n.backupsPvc : undefined);
  const initContainers: k8s.Container[] = [];
  const restore = spec.restore?.fromBackup;
  if (restore) {
    const args = ['restore', '--from', restore.source, '--deployment', x];
    if (restore.deployment) args.push('--source-deployment', restore.deployment);
    args.push('--pair', restore.pair === undefined ? '$(POD_INDEX)' : String(restore.pair));
    args.push('--to', WAL_MOUNT);
    if (restore.upToTimestamp) args.push('--up-to-time', restore.upToTimestamp);
    // The init container runs again at every pod start: a WAL that already holds records (the
    // restored one, or newer orders written on top) is left alone instead of failing the pod.
    args.push('--if-empty');
    const mounts: k8s.VolumeMount[] = [{ name: 'wal', mountPath: WAL_MOUNT }, tmpMount];
    if (restore.source.startsWith('/') && backupClaim) {
      engineVolumes.push({
        name: 'backups',
        persistentVolumeClaim: { claimName: backupClaim, readOnly: true },
      });
      mounts.push({ name: 'backups', mountPath: BACKUP_MOUNT, readOnly: true });
    }
    if (restore.source.startsWith('postgres') && pg)
      mounts.push({ name: 'postgres', mountPath: POSTGRES_MOUNT, readOnly: true });
    initContainers.push({
      name: 'restore',
      image,
      imagePullPolicy: pullPolicy,
      args,
      env: [podIndexEnv(), ...(restore.source.startsWith('s3://') ? s3Env(destination.s3) : [])],
      resources: kubeResources(spec.engine.resources),
      securityContext: containerSecurity,
      volumeMounts: mounts,
    });
  }

  const engineSelector = selectorLabels(x, 'engine');
  new k8s.KubeStatefulSet(chart, 'engine', {
    metadata: meta(n.engine, 'engine'),
    spec: {
      serviceName: n.engine,
      replicas: pairs,
      // Pairs are independent: one slow WAL replay must not hold back the others.
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
      selector: { matchLabels: engineSelector },
      persistentVolumeClaimRetentionPolicy: {
        whenDeleted: spec.wal.storage.retainOnDelete ? 'Retain' : 'Delete',
        // Scaling down (and pairs: 0) always keeps the WAL: scaling up again resumes it.
        whenScaled: 'Retain',
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'wal', labels: labels(x, 'engine') },
          spec: {
            accessModes: ['ReadWriteOnce'],
            storageClassName: spec.wal.storage.storageClassName,
            volumeMode: 'Filesystem',
            resources: { requests: { storage: q(spec.wal.storage.size) } },
          },
        },
      ],
      template: {
        metadata: { labels: labels(x, 'engine'), annotations: podAnnotations },
        spec: podSpec('engine', {
          initContainers: initContainers.length > 0 ? initContainers : undefined,
          containers: [
            {
              name: 'engine',
              // No command anywhere: the image's entrypoint (tini -- node veloz.js) runs the
              // args, so tini is PID 1 and forwards signals; there is no `veloz` on its PATH.
              image,
              imagePullPolicy: pullPolicy,
              args: ['engine', '--port', String(PORT)],
              ports: [{ name: 'http', containerPort: PORT, protocol: 'TCP' }],
              envFrom: [{ configMapRef: { name: n.config } }],
              env: engineEnv,
              resources: kubeResources(spec.engine.resources),
              securityContext: containerSecurity,
              volumeMounts: engineMounts,
              ...probes,
            },
          ],
          volumes: engineVolumes,
        }),
      },
    },
  });

  const engineService = new kplus.Service(chart, 'engine-service', {
    metadata: meta(n.engine, 'engine'),
    clusterIP: 'None',
    ports: [{ name: 'http', port: PORT, targetPort: PORT, protocol: kplus.Protocol.TCP }],
  });
  for (const [k, v] of Object.entries(engineSelector)) engineService.selectLabel(k, v);
  // Engines resolve while they replay their WAL, so gateways, the operator and backups can reach
  // /health and /api/wal/status before the engine is ready.
  ApiObject.of(engineService).addJsonPatch(JsonPatch.add('/spec/publishNotReadyAddresses', true));

  // Gateways: gateway i talks to engine i.
  const gatewaySelector = selectorLabels(x, 'gateway');
  new k8s.KubeStatefulSet(chart, 'gateway', {
    metadata: meta(n.gateway, 'gateway'),
    spec: {
      serviceName: n.service,
      replicas: pairs,
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
      selector: { matchLabels: gatewaySelector },
      template: {
        metadata: { labels: labels(x, 'gateway'), annotations: podAnnotations },
        spec: podSpec('gateway', {
          containers: [
            {
              name: 'gateway',
              image,
              imagePullPolicy: pullPolicy,
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
              env: [podIndexEnv(), secretEnv('VELOZ_API_KEY', apiKeyRef.name, apiKeyRef.key)],
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
  });

  const svc = spec.gateway.service;
  const gatewayService = new kplus.Service(chart, 'gateway-service', {
    metadata: meta(n.service, 'gateway', { annotations: svc.annotations }),
    type: svc.type as kplus.ServiceType,
    ports: [{ name: 'http', port: svc.port, targetPort: PORT, protocol: kplus.Protocol.TCP }],
  });
  for (const [k, v] of Object.entries(gatewaySelector)) gatewayService.selectLabel(k, v);
  // Each pair has its own engine state: keep a client on one pair.
  ApiObject.of(gatewayService).addJsonPatch(JsonPatch.add('/spec/sessionAffinity', 'ClientIP'));

  new k8s.KubePodDisruptionBudget(chart, 'pdb', {
    metadata: meta(n.engine, 'engine'),
    spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: engineSelector } },
  });

  const peer = (p: PeerSelector): k8s.NetworkPolicyPeer => ({
    podSelector: { matchLabels: p.podLabels },
    namespaceSelector: { matchLabels: p.namespaceLabels },
  });
  new k8s.KubeNetworkPolicy(chart, 'network-policy', {
    metadata: meta(n.engine, 'engine'),
    spec: {
      podSelector: { matchLabels: engineSelector },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            { podSelector: { matchLabels: gatewaySelector } },
            { podSelector: { matchLabels: selectorLabels(x, 'backup') } },
            peer(ctx.operatorPods ?? DEFAULT_OPERATOR_PODS),
            peer(ctx.scraperPods ?? DEFAULT_SCRAPER_PODS),
          ],
          ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(PORT) }],
        },
      ],
    },
  });

  // Backups: one container per pair, so every engine is backed up in the same run and no shell
  // is needed in the image. Nothing to back up while hibernated.
  if (destination.volume?.size) {
    new k8s.KubePersistentVolumeClaim(chart, 'backups', {
      // Backups outlive the deployment when its WAL does (wal.storage.retainOnDelete).
      metadata: meta(n.backupsPvc, 'backup', { owned: !spec.wal.storage.retainOnDelete }),
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: destination.volume.storageClassName,
        volumeMode: 'Filesystem',
        resources: { requests: { storage: q(destination.volume.size) } },
      },
    });
  }
  if (pairs > 0) {
    const s3 = destination.s3;
    const dest = s3 ? `s3://${s3.bucket}/${s3.prefix ?? ''}` : BACKUP_MOUNT;
    const backupEnv = s3Env(s3);
    const volumes: k8s.Volume[] = [tmpVolume];
    const mounts: k8s.VolumeMount[] = [tmpMount];
    if (backupClaim) {
      volumes.push({ name: 'backups', persistentVolumeClaim: { claimName: backupClaim } });
      mounts.push({ name: 'backups', mountPath: BACKUP_MOUNT });
    }
    const containers: k8s.Container[] = Array.from({ length: pairs }, (_, i) => ({
      name: `backup-${i}`,
      image,
      imagePullPolicy: pullPolicy,
      args: [
        'backup',
        '--engine-url',
        n.engineUrl(i),
        '--deployment',
        x,
        '--pair',
        String(i),
        '--dest',
        dest,
        '--retention-days',
        String(spec.backup.retentionDays),
      ],
      env: backupEnv.length > 0 ? backupEnv : undefined,
      resources: {
        requests: { cpu: q('50m'), memory: q('128Mi') },
        limits: { memory: q('256Mi') },
      },
      securityContext: containerSecurity,
      volumeMounts: mounts,
    }));
    new k8s.KubeCronJob(chart, 'backup', {
      metadata: meta(n.backupCronJob, 'backup'),
      spec: {
        schedule: spec.backup.schedule,
        timeZone: spec.backup.timeZone,
        suspend: spec.backup.suspend,
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 300,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels: labels(x, 'backup') },
          spec: {
            backoffLimit: 2,
            activeDeadlineSeconds: 1800,
            ttlSecondsAfterFinished: 86400,
            template: {
              metadata: { labels: labels(x, 'backup') },
              spec: podSpec('backup', { restartPolicy: 'Never', containers, volumes }),
            },
          },
        },
      },
    });
  }

  // Monitoring, only when the Prometheus Operator API exists (else condition MonitoringReady=False).
  const mon = spec.monitoring;
  if (ctx.monitoringApiServed && mon.serviceMonitor.enabled) {
    new ApiObject(chart, 'service-monitor', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: meta(n.monitoring, 'monitoring', { labels: mon.serviceMonitor.labels }),
      spec: {
        selector: {
          matchLabels: { 'app.kubernetes.io/name': 'veloz', 'app.kubernetes.io/instance': x },
          matchExpressions: [
            { key: 'app.kubernetes.io/component', operator: 'In', values: ['engine', 'gateway'] },
          ],
        },
        endpoints: [
          { port: 'http', path: '/metrics', interval: mon.serviceMonitor.interval, scheme: 'http' },
        ],
      },
    });
  }
  if (ctx.monitoringApiServed && mon.prometheusRule.enabled) {
    new ApiObject(chart, 'prometheus-rule', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: meta(n.monitoring, 'monitoring', { labels: mon.prometheusRule.labels }),
      spec: {
        groups: [
          {
            name: `veloz.${x}`,
            rules: alertRules(x, namespace, {
              schedule: spec.backup.schedule,
              latencySeconds: mon.prometheusRule.orderLatencySeconds,
              backups: pairs > 0 && !spec.backup.suspend,
              // Engines ship only when the URI Secret is mounted (wal.postgres.secretRef).
              walShipping: pg !== undefined,
            }),
          },
        ],
      },
    });
  }

  return chart.toJson().map((o) => stripCdk8s(o as KubernetesObject));
}

function podIndexEnv(): k8s.EnvVar {
  return {
    name: 'POD_INDEX',
    valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } },
  };
}

/**
 * cdk8s-plus adds bookkeeping (`cdk8s.io/*` labels, empty lists) meant for its own selectors; the
 * objects here select explicitly, so none of it belongs in what is applied.
 */
function stripCdk8s(o: KubernetesObject): KubernetesObject {
  const clean = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(clean);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) {
      if (k.startsWith('cdk8s.io/')) continue;
      if (k === 'externalIPs' && Array.isArray(val) && val.length === 0) continue;
      out[k] = clean(val);
    }
    return out;
  };
  return clean(o) as KubernetesObject;
}
