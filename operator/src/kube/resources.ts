// The resources the operator talks to, and how their REST paths are built.
/** A resource; `K` is its kind, literal for the RESOURCES below, so the cache can type what it holds. */
export interface ResourceRef<K extends string = string> {
  group: string;
  version: string;
  kind: K;
  plural: string;
  namespaced: boolean;
}

export interface KubernetesObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
    ownerReferences?: Array<{
      apiVersion: string;
      kind: string;
      name: string;
      uid: string;
      controller?: boolean;
    }>;
    managedFields?: unknown[];
    creationTimestamp?: string;
  };
  [key: string]: unknown;
}

export function apiVersionOf(r: ResourceRef): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

export function collectionPath(r: ResourceRef, namespace?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  return r.namespaced && namespace ? `${base}/namespaces/${namespace}/${r.plural}` : `${base}/${r.plural}`;
}

export function objectPath(r: ResourceRef, namespace: string | undefined, name: string): string {
  return `${collectionPath(r, namespace)}/${encodeURIComponent(name)}`;
}

export function objectKey(o: KubernetesObject): string {
  const m = o.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name ?? ''}` : (m.name ?? '');
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

const r = <K extends string>(
  group: string,
  version: string,
  kind: K,
  plural: string,
  namespaced = true,
): ResourceRef<K> => ({
  group,
  version,
  kind,
  plural,
  namespaced,
});

export const RESOURCES = {
  velozDeployment: r('veloz.io', 'v1alpha1', 'VelozDeployment', 'velozdeployments'),
  velozStrategy: r('veloz.io', 'v1alpha1', 'VelozStrategy', 'velozstrategies'),
  secret: r('', 'v1', 'Secret', 'secrets'),
  configMap: r('', 'v1', 'ConfigMap', 'configmaps'),
  service: r('', 'v1', 'Service', 'services'),
  serviceAccount: r('', 'v1', 'ServiceAccount', 'serviceaccounts'),
  pvc: r('', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims'),
  pod: r('', 'v1', 'Pod', 'pods'),
  event: r('', 'v1', 'Event', 'events'),
  namespace: r('', 'v1', 'Namespace', 'namespaces', false),
  node: r('', 'v1', 'Node', 'nodes', false),
  statefulSet: r('apps', 'v1', 'StatefulSet', 'statefulsets'),
  cronJob: r('batch', 'v1', 'CronJob', 'cronjobs'),
  job: r('batch', 'v1', 'Job', 'jobs'),
  pdb: r('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets'),
  networkPolicy: r('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies'),
  lease: r('coordination.k8s.io', 'v1', 'Lease', 'leases'),
  role: r('rbac.authorization.k8s.io', 'v1', 'Role', 'roles'),
  roleBinding: r('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings'),
  serviceMonitor: r('monitoring.coreos.com', 'v1', 'ServiceMonitor', 'servicemonitors'),
  prometheusRule: r('monitoring.coreos.com', 'v1', 'PrometheusRule', 'prometheusrules'),
  certificate: r('cert-manager.io', 'v1', 'Certificate', 'certificates'),
  selfSubjectAccessReview: r(
    'authorization.k8s.io',
    'v1',
    'SelfSubjectAccessReview',
    'selfsubjectaccessreviews',
    false,
  ),
  crd: r('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false),
} as const;

export function resourceFor(apiVersion: string, kind: string): ResourceRef {
  for (const res of Object.values(RESOURCES))
    if (apiVersionOf(res) === apiVersion && res.kind === kind) return res;
  throw new Error(`no resource known for ${apiVersion} ${kind}`);
}
