// What the operator's caches keep of each kind: only the fields reconcilers read. At hundreds of
// deployments the caches hold thousands of objects, and pod specs and templates dominate them.
import type { KubernetesObject, ResourceRef } from './kube/resources.ts';
import { RESOURCES } from './kube/resources.ts';

type Transform = (o: KubernetesObject) => KubernetesObject;

function meta(o: KubernetesObject): KubernetesObject {
  const m = o.metadata ?? {};
  return {
    apiVersion: o.apiVersion ?? '',
    kind: o.kind ?? '',
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      generation: m.generation,
      labels: m.labels,
      ownerReferences: m.ownerReferences,
      deletionTimestamp: m.deletionTimestamp,
    },
  };
}

function pick(o: KubernetesObject, field: string, keys: string[]): Record<string, unknown> | undefined {
  const v = o[field] as Record<string, unknown> | undefined;
  if (!v) return undefined;
  return Object.fromEntries(keys.filter((k) => v[k] !== undefined).map((k) => [k, v[k]]));
}

const TRANSFORMS = new Map<ResourceRef, Transform>([
  [
    RESOURCES.pod,
    (o) => {
      const st = o['status'] as
        { podIP?: string; phase?: string; conditions?: Array<{ type: string }> } | undefined;
      return {
        ...meta(o),
        status: {
          podIP: st?.podIP,
          phase: st?.phase,
          conditions: st?.conditions?.filter((c) => c.type === 'Ready'),
        },
      };
    },
  ],
  [
    RESOURCES.pvc,
    (o) => ({ ...meta(o), spec: pick(o, 'spec', ['resources']), status: pick(o, 'status', ['phase']) }),
  ],
  [RESOURCES.job, (o) => ({ ...meta(o), status: pick(o, 'status', ['conditions']) })],
  [
    RESOURCES.statefulSet,
    (o) => ({ ...meta(o), spec: pick(o, 'spec', ['replicas', 'volumeClaimTemplates']), status: o['status'] }),
  ],
  [RESOURCES.secret, (o) => ({ ...meta(o), type: o['type'], data: o['data'] })],
]);

/** Kinds the reconcilers read only the metadata of (existence, labels, owners, generation). */
const METADATA_ONLY = new Set<ResourceRef>([
  RESOURCES.configMap,
  RESOURCES.service,
  RESOURCES.serviceAccount,
  RESOURCES.pdb,
  RESOURCES.networkPolicy,
  RESOURCES.cronJob,
  RESOURCES.serviceMonitor,
  RESOURCES.prometheusRule,
]);

export function cacheTransform(r: ResourceRef): Transform | undefined {
  return TRANSFORMS.get(r) ?? (METADATA_ONLY.has(r) ? meta : undefined);
}
