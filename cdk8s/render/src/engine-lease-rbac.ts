// Role and RoleBinding `X-engine-lease`: what self-fencing needs (ADR 18) and nothing more. The
// engines create their Leases (create cannot be limited to names), and read and renew only their
// own pairs' Leases, named as their pods. Bound to the desk's ServiceAccount, whose token only
// the engine pods may mount. Not yet part of render(): the operator must first apply, watch and
// prune these kinds, and hold the same Lease permissions itself in order to grant them.
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import { names } from '@veloz/api/names';
import type { Desk, KubernetesObject } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';

export function engineLeaseRole(d: Desk): KubernetesObject {
  const n = names(d.metadata.name);
  const leases = Array.from({ length: d.spec.pairs }, (_, i) => n.engineLease(i));
  return manifest(
    (scope) =>
      new k8s.KubeRole(scope, 'engine-lease-role', {
        metadata: objectMeta(d, n.engineLeaseRole, 'engine'),
        rules: [
          { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
          ...(leases.length > 0
            ? [
                {
                  apiGroups: ['coordination.k8s.io'],
                  resources: ['leases'],
                  resourceNames: leases,
                  verbs: ['get', 'update'],
                },
              ]
            : []),
        ],
      }),
  );
}

export function engineLeaseRoleBinding(d: Desk): KubernetesObject {
  const n = names(d.metadata.name);
  return manifest(
    (scope) =>
      new k8s.KubeRoleBinding(scope, 'engine-lease-binding', {
        metadata: objectMeta(d, n.engineLeaseRole, 'engine'),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: n.engineLeaseRole },
        subjects: [{ kind: 'ServiceAccount', name: n.serviceAccount, namespace: d.metadata.namespace }],
      }),
  );
}
