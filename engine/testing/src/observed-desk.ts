// The desk `desk` (two pairs, defaults applied) and what the operator observes of it when all is
// well: the starting point of the status function's tests, each changing only what it is about.
import { VELOZ_DEPLOYMENT } from '@veloz/api/crd/crds';
import { applyDefaults } from '@veloz/api/crd/defaults';
import type { VelozDeployment } from '@veloz/api/generated/types';
import { names } from '@veloz/api/names';
import type { ObservedDeployment, ObservedStatefulSet } from '@veloz/operator/status/deployment-status';

const n = names('desk');

/** The VelozDeployment `ns/desk` of `spec` over two pairs, at `generation`. */
export function deskResource(spec: Record<string, unknown> = {}, generation = 3): VelozDeployment {
  return applyDefaults(VELOZ_DEPLOYMENT.schema, {
    apiVersion: 'veloz.io/v1alpha1',
    kind: 'VelozDeployment',
    metadata: { name: 'desk', namespace: 'ns', generation },
    spec: { pairs: 2, ...spec },
  }) as VelozDeployment;
}

/** A StatefulSet of `replicas`, all ready and updated, rolled out. */
export const observedSts = (
  replicas: number,
  over: Partial<ObservedStatefulSet> = {},
): ObservedStatefulSet => ({
  generation: 2,
  observedGeneration: 2,
  replicas,
  readyReplicas: replicas,
  updatedReplicas: replicas,
  ...over,
});

/** Both pairs ready, claims bound, credentials found, a backup two minutes before 2026-11-21T10:00Z. */
export function observedDesk(over: Partial<ObservedDeployment> = {}): ObservedDeployment {
  return {
    engine: observedSts(2),
    gateway: observedSts(2),
    readyPods: new Set([n.enginePod(0), n.enginePod(1), n.gatewayPod(0), n.gatewayPod(1)]),
    boundClaims: new Set([n.walClaim(0), n.walClaim(1)]),
    credentials: { ready: true, reason: 'SecretFound', message: '' },
    monitoringServed: true,
    wal: new Map(),
    lastBackup: { time: '2026-11-21T09:58:00.000Z', result: 'Succeeded' },
    applyError: undefined,
    ...over,
  };
}
