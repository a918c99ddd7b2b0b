// Conditions as the Kubernetes API conventions describe them: lastTransitionTime changes only
// when the status does, so recomputing an unchanged condition is not a change.
import type { Condition } from '@veloz/api/generated/types';

export type ConditionInput = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

export function mergeConditions(
  previous: Condition[] | undefined,
  next: ConditionInput[],
  generation: number,
  now: string,
): Condition[] {
  return next.map((c) => {
    const prev = previous?.find((p) => p.type === c.type);
    return {
      type: c.type,
      status: c.status,
      observedGeneration: generation,
      lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : now,
      reason: c.reason,
      message: c.message,
    };
  });
}

export function conditionOf(conds: Condition[] | undefined, type: string): Condition | undefined {
  return conds?.find((c) => c.type === type);
}
