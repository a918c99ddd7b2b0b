// What the operator's caches keep of each kind: only the fields reconcilers read. At hundreds of
// deployments the caches hold thousands of objects, and pod specs and templates dominate them.
// The types of the cached objects are derived from these transforms, so a reconciler can read
// exactly what is kept, typed, and nothing else.
import type { VelozDeployment, VelozStrategy } from '@veloz/api/generated/types';
import { DRILL_LABEL } from '@veloz/api/names';
import { CALENDAR_LABEL } from '@veloz/api/crd/maintenance';
import type { KubernetesObject, ResourceRef } from './kube/resources.ts';
import { slim } from './runtime/informer.ts';
import { Interner } from './interner.ts';

type Metadata = NonNullable<KubernetesObject['metadata']>;
type Condition = {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
};

// The fields read of each kind as the API server sends them (its v1 shapes, abridged). An object
// comes off the wire untyped; these say once, here, what its fields are.
interface PodFields {
  spec?: { nodeName?: string };
  status?: {
    podIP?: string;
    phase?: string;
    conditions?: Condition[];
    containerStatuses?: Array<{
      name: string;
      state?: { terminated?: { exitCode?: number; message?: string; finishedAt?: string } };
    }>;
  };
}
interface NodeFields {
  status?: { conditions?: Condition[] };
}
interface ClaimFields {
  spec?: { resources?: { requests?: { storage?: string } } };
  status?: { phase?: string };
}
interface JobFields {
  status?: { conditions?: Condition[] };
}
interface StatefulSetFields {
  spec?: {
    replicas?: number;
    volumeClaimTemplates?: Array<{
      metadata?: { name?: string };
      spec?: { resources?: { requests?: { storage?: string } } };
    }>;
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
  };
}
interface SecretFields {
  type?: string;
  data?: Record<string, string>;
}
const fields = <F>(o: KubernetesObject): F => o as F;

// Shared by every informer: a desk's children repeat its namespace, name, labels and owner.
const interned = new Interner();

/**
 * What every cached object keeps: its identity, labels, owners and generation. Labels and owner
 * references are shared between the objects that have the same ones, and frozen.
 */
function meta(o: KubernetesObject) {
  const m: Metadata = o.metadata ?? {};
  return {
    apiVersion: interned.string(o.apiVersion ?? ''),
    kind: interned.string(o.kind ?? ''),
    metadata: {
      name: interned.string(m.name),
      namespace: interned.string(m.namespace),
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      generation: m.generation,
      labels: interned.record(m.labels),
      // Typed as KubernetesObject's (which reconcilers pass on) though frozen: none writes to it.
      ownerReferences: interned.list(m.ownerReferences) as Metadata['ownerReferences'],
      deletionTimestamp: m.deletionTimestamp,
    },
  };
}

/** The keys of `v` among `keys` whose value is set (absent keys are left out, not kept undefined). */
function pick<T extends object, K extends keyof T>(
  v: T | undefined,
  keys: readonly K[],
): Partial<Pick<T, K>> | undefined {
  if (!v) return undefined;
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (v[k] !== undefined) out[k] = v[k];
  return out;
}

// The API server checks custom resources against the CRD schema, whose types these are; the
// metadata is the full one (finalizers, deletionTimestamp), which the generated types leave out.
const velozDeployment = (o: KubernetesObject) => fields<VelozDeployment & { metadata: Metadata }>(slim(o));
const velozStrategy = (o: KubernetesObject) => fields<VelozStrategy & { metadata: Metadata }>(slim(o));

const pod = (o: KubernetesObject) => {
  const st = fields<PodFields>(o).status;
  const m = meta(o);
  return {
    ...m,
    // The node it is bound to: a pair is lost with its node (NodeReady, PairLost).
    spec: { nodeName: fields<PodFields>(o).spec?.nodeName },
    status: {
      podIP: st?.podIP,
      phase: st?.phase,
      conditions: st?.conditions?.filter((c) => c.type === 'Ready'),
      // A restore drill's report is its containers' termination messages (ADR 0024); no other
      // pod keeps its container statuses here.
      terminated:
        m.metadata.labels?.[DRILL_LABEL] === 'true'
          ? (st?.containerStatuses ?? []).flatMap((c) =>
              c.state?.terminated
                ? [
                    {
                      name: c.name,
                      exitCode: c.state.terminated.exitCode,
                      message: c.state.terminated.message,
                    },
                  ]
                : [],
            )
          : undefined,
    },
  };
};

/**
 * A Node: its Ready condition only, without the heartbeat time, which the kubelet renews every few
 * seconds to minutes (a node's images, addresses and capacity are never read).
 */
const node = (o: KubernetesObject) => ({
  ...meta(o),
  status: {
    conditions: fields<NodeFields>(o)
      .status?.conditions?.filter((c) => c.type === 'Ready')
      .map(({ type, status, lastTransitionTime, reason, message }) => ({
        type,
        status,
        lastTransitionTime,
        reason,
        message,
      })),
  },
});

const pvc = (o: KubernetesObject) => {
  const f = fields<ClaimFields>(o);
  return { ...meta(o), spec: pick(f.spec, ['resources']), status: pick(f.status, ['phase']) };
};

/** A ConfigMap: its data only when it holds a trading calendar (spec.maintenance.calendarRef). */
const configMap = (o: KubernetesObject) => {
  const m = meta(o);
  return {
    ...m,
    data:
      m.metadata.labels?.[CALENDAR_LABEL] === 'true'
        ? (o as { data?: Record<string, string> }).data
        : undefined,
  };
};

const job = (o: KubernetesObject) => ({
  ...meta(o),
  status: pick(fields<JobFields>(o).status, ['conditions']),
});

const statefulSet = (o: KubernetesObject) => {
  const f = fields<StatefulSetFields>(o);
  return { ...meta(o), spec: pick(f.spec, ['replicas', 'volumeClaimTemplates']), status: f.status };
};

const secret = (o: KubernetesObject) => {
  const f = fields<SecretFields>(o);
  return { ...meta(o), type: f.type, data: f.data };
};

/** The cached shape of each kind the operator watches, by kind. */
export interface CachedShapes {
  VelozDeployment: ReturnType<typeof velozDeployment>;
  VelozStrategy: ReturnType<typeof velozStrategy>;
  Secret: ReturnType<typeof secret>;
  Pod: ReturnType<typeof pod>;
  Node: ReturnType<typeof node>;
  PersistentVolumeClaim: ReturnType<typeof pvc>;
  Job: ReturnType<typeof job>;
  StatefulSet: ReturnType<typeof statefulSet>;
  // Kinds the reconcilers read only the metadata of (existence, labels, owners, generation).
  ConfigMap: ReturnType<typeof configMap>;
  Service: CachedMeta;
  ServiceAccount: CachedMeta;
  Role: CachedMeta;
  RoleBinding: CachedMeta;
  PodDisruptionBudget: CachedMeta;
  NetworkPolicy: CachedMeta;
  CronJob: CachedMeta;
  ServiceMonitor: CachedMeta;
  PrometheusRule: CachedMeta;
  Certificate: CachedMeta;
}

export type CachedKind = keyof CachedShapes;
export type CachedMeta = ReturnType<typeof meta>;
export type CachedDeployment = CachedShapes['VelozDeployment'];
export type CachedStrategy = CachedShapes['VelozStrategy'];
export type CachedSecret = CachedShapes['Secret'];
export type CachedPod = CachedShapes['Pod'];
export type CachedNode = CachedShapes['Node'];
export type CachedClaim = CachedShapes['PersistentVolumeClaim'];
export type CachedJob = CachedShapes['Job'];
export type CachedStatefulSet = CachedShapes['StatefulSet'];

const TRANSFORMS: { [K in CachedKind]: (o: KubernetesObject) => CachedShapes[K] } = {
  VelozDeployment: velozDeployment,
  VelozStrategy: velozStrategy,
  Secret: secret,
  Pod: pod,
  Node: node,
  PersistentVolumeClaim: pvc,
  Job: job,
  StatefulSet: statefulSet,
  ConfigMap: configMap,
  Service: meta,
  ServiceAccount: meta,
  Role: meta,
  RoleBinding: meta,
  PodDisruptionBudget: meta,
  NetworkPolicy: meta,
  CronJob: meta,
  ServiceMonitor: meta,
  PrometheusRule: meta,
  Certificate: meta,
};

export function cacheTransform<K extends CachedKind>(
  r: ResourceRef<K>,
): (o: KubernetesObject) => CachedShapes[K] {
  return TRANSFORMS[r.kind];
}

/** Whether the cache keeps only the metadata of `r`: its informers need ask for no more. */
export function metadataOnly(r: ResourceRef<CachedKind>): boolean {
  return TRANSFORMS[r.kind] === meta;
}

/** Whether the operator caches `r` (a kind render() makes, say). */
export function isCached(r: ResourceRef): r is ResourceRef<CachedKind> {
  return Object.hasOwn(TRANSFORMS, r.kind);
}
