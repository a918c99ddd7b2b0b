// Kubernetes quantities and resource requirements as the typed cdk8s imports want them, in a
// stable key order.
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import type { ResourceAmounts, ResourceRequirements } from '@veloz/api/generated/types';

export const q = (v: string | number): k8s.Quantity =>
  typeof v === 'number' ? k8s.Quantity.fromNumber(v) : k8s.Quantity.fromString(v);

export function kubeResources(r: ResourceRequirements): k8s.ResourceRequirements {
  const amounts = (a: ResourceAmounts | undefined) => {
    if (!a) return undefined;
    const out: Record<string, k8s.Quantity> = {};
    for (const [key, v] of Object.entries(a).sort(([k1], [k2]) => k1.localeCompare(k2)))
      if (v !== undefined) out[key] = q(v);
    return out;
  };
  return { requests: amounts(r.requests), limits: amounts(r.limits) };
}
