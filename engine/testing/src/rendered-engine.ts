// The environment a rendered engine pod gives its container, for a real engine process run outside
// a cluster: the ConfigMap (envFrom), then the container's env with the downward API filled in from
// the pod and $(VAR) references expanded as the kubelet does, and the paths of what the pod would
// mount moved to local directories. So a test runs an engine exactly as render configures it.

export interface EnvVar {
  name: string;
  value?: string;
  /** Only the downward API's fieldRef is provided; anything else (a Secret's key) is refused. */
  valueFrom?: { fieldRef?: { fieldPath: string }; [source: string]: unknown };
}

/** The parts of a rendered engine StatefulSet read here. */
export interface RenderedStatefulSet {
  spec: { template: { spec: { containers: Array<{ name: string; env?: EnvVar[] }> } } };
}

/** The pod the kubelet would run: its downward API fields. */
export interface PodIdentity {
  name: string;
  uid: string;
  namespace: string;
}

const POD_INDEX_FIELD = "metadata.labels['apps.kubernetes.io/pod-index']";

function field(pod: PodIdentity, path: string): string {
  if (path === 'metadata.name') return pod.name;
  if (path === 'metadata.uid') return pod.uid;
  if (path === 'metadata.namespace') return pod.namespace;
  if (path === POD_INDEX_FIELD) return /-(\d+)$/.exec(pod.name)?.[1] ?? '0';
  throw new Error(`rendered-engine: no value for the downward API field ${path}`);
}

/**
 * The engine container's environment. `mounts` maps a mount path of the pod to a local directory:
 * every value under it is moved there (the WAL, the engine tokens, the service account's files).
 */
export function renderedEngineEnv(
  sts: RenderedStatefulSet,
  configData: Record<string, string>,
  pod: PodIdentity,
  mounts: Record<string, string> = {},
): Record<string, string> {
  const container = sts.spec.template.spec.containers.find((c) => c.name === 'engine');
  if (!container) throw new Error('rendered-engine: the StatefulSet has no container "engine"');
  const env: Record<string, string> = { ...configData };
  for (const v of container.env ?? []) {
    if (v.valueFrom && !v.valueFrom.fieldRef)
      throw new Error(`rendered-engine: ${v.name} comes from something other than the downward API`);
    const raw = v.valueFrom?.fieldRef ? field(pod, v.valueFrom.fieldRef.fieldPath) : (v.value ?? '');
    // The kubelet expands $(NAME) of variables defined before this one; $$ stands for $.
    env[v.name] = raw.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name?: string) =>
      name === undefined ? '$' : (env[name] ?? m),
    );
  }
  for (const [name, value] of Object.entries(env))
    for (const [from, to] of Object.entries(mounts))
      if (value === from || value.startsWith(`${from}/`)) env[name] = to + value.slice(from.length);
  return env;
}
