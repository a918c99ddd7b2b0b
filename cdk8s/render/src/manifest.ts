// One cdk8s construct synthesized into one plain manifest. Each builder owns a throw-away chart,
// so builders stay independent pure functions (the CloudNativePG pkg/specs shape) while still
// using cdk8s-plus where its L2 constructs map one-to-one.
import { App, Chart } from 'cdk8s';
import type { KubernetesObject } from './context.ts';

export function manifest(build: (scope: Chart) => unknown): KubernetesObject {
  const chart = new Chart(new App(), 'veloz', { disableResourceNameHashes: true });
  build(chart);
  const objects = chart.toJson() as KubernetesObject[];
  if (objects.length !== 1) throw new Error(`a builder made ${objects.length} objects instead of one`);
  return stripCdk8s(objects[0]!);
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
