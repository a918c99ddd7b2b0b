// ServiceAccount `X-engine`, Role and RoleBinding `X-engine-lease`: what self-fencing needs
// (ADR 18) and nothing more. The engines create their Leases (create cannot be limited to names),
// and read and renew only their own pairs' Leases, named as their pods. The engines get an account
// of their own, so the gateways and backup jobs (account `X`, no Role) hold no API rights at all,
// and only the engine container mounts its token (engine-statefulset.ts).
import * as kplus from 'cdk8s-plus-27';
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import { names } from '@veloz/api/names';
import type { Desk, KubernetesObject } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';

/** The verbs the engines hold on Leases: the operator must hold them too in order to grant them. */
export const ENGINE_LEASE_VERBS = { any: ['create'], own: ['get', 'update'] } as const;

export function engineServiceAccount(d: Desk): KubernetesObject {
  return manifest(
    (scope) =>
      new kplus.ServiceAccount(scope, 'engine-service-account', {
        metadata: objectMeta(d, names(d.metadata.name).engineServiceAccount, 'engine'),
        // The pod template mounts a token into the engine container only, not into every pod.
        automountToken: false,
      }),
  );
}

export function engineLeaseRole(d: Desk): KubernetesObject {
  const n = names(d.metadata.name);
  const leases = Array.from({ length: d.spec.pairs }, (_, i) => n.engineLease(i));
  return manifest(
    (scope) =>
      new k8s.KubeRole(scope, 'engine-lease-role', {
        metadata: objectMeta(d, n.engineLeaseRole, 'engine'),
        rules: [
          { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: [...ENGINE_LEASE_VERBS.any] },
          ...(leases.length > 0
            ? [
                {
                  apiGroups: ['coordination.k8s.io'],
                  resources: ['leases'],
                  resourceNames: leases,
                  verbs: [...ENGINE_LEASE_VERBS.own],
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
        subjects: [{ kind: 'ServiceAccount', name: n.engineServiceAccount, namespace: d.metadata.namespace }],
      }),
  );
}
