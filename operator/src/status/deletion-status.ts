// The VelozDeployment status while it is being deleted. Its strategies go first (their finalizers
// stop them and cancel their orders on every engine); the Deleting condition says which are still
// stopping, and which wait on an engine that does not answer, with the way out. Nothing is rolled
// out any more, so the other conditions keep their last state.
import type { VelozDeployment, VelozDeploymentStatus } from '@veloz/api/generated/types';
import { ABANDON_ENGINES } from '../annotations.ts';
import { mergeConditions, type ConditionInput } from './conditions.ts';

export interface StrategyCleanup {
  name: string;
  /** Why its cleanup waits (the message of its CleanupPending condition), when it does. */
  blocked?: string | undefined;
}

export function deletingCondition(deployment: string, strategies: StrategyCleanup[]): ConditionInput {
  const blocked = strategies.filter((s) => s.blocked);
  if (blocked.length > 0) {
    const why = blocked.map((s) => `VelozStrategy ${s.name}: ${s.blocked}`).join('; ');
    return {
      type: 'Deleting',
      status: 'True',
      reason: 'CleanupBlocked',
      message:
        `${why}. The deletion waits until the engine answers; to let it go anyway, leaving the strategy ` +
        `running there and its orders possibly open on the exchange: kubectl annotate vzd ${deployment} ${ABANDON_ENGINES}=true`,
    };
  }
  return {
    type: 'Deleting',
    status: 'True',
    reason: 'StrategiesStopping',
    message: `stopping VelozStrategy ${strategies.map((s) => s.name).join(', ')} and cancelling their open orders first`,
  };
}

/**
 * The status with the Deleting condition for `strategies` (those left), the rest as it was. The
 * API server bumps the generation when it marks an object for deletion: the status says it has
 * observed that one.
 */
export function deletingStatus(
  d: VelozDeployment,
  strategies: StrategyCleanup[],
  now: string,
): VelozDeploymentStatus {
  const gen = d.metadata?.generation ?? 0;
  const previous = d.status?.conditions ?? [];
  const deleting = mergeConditions(
    previous,
    [deletingCondition(d.metadata?.name ?? '', strategies)],
    gen,
    now,
  );
  return {
    ...d.status,
    observedGeneration: gen,
    conditions: [...previous.filter((c) => c.type !== 'Deleting'), ...deleting],
  };
}
