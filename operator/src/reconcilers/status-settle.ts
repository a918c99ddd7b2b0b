// While a desk rolls out, its children change in bursts (StatefulSets observed, claims bound,
// pods ready one by one), and every change wakes a pass that would apply a new status: at 2,000
// desks, 1.5 status applies per new desk, each costing the API server about two child applies
// (the whole CR is validated). A status that only says the rollout went on is held back until
// the burst settles or `ms` passed since it was first held, so one apply carries where it got to.
// Ready, Degraded and every other outcome are written at once. Level-triggered: the pass that
// holds a status asks to run again when the wait ends.
import type { VelozDeploymentStatus } from '@veloz/api/generated/types';
import { conditionOf } from '../status/conditions.ts';

/**
 * Whether a status only reports progress of a rollout: not ready yet, nothing wrong, no change
 * waiting for a maintenance window (RolloutPending has its Event, recorded as it is written).
 */
export function rollingOut(status: VelozDeploymentStatus): boolean {
  return (
    conditionOf(status.conditions, 'Progressing')?.reason === 'RollingOut' &&
    conditionOf(status.conditions, 'Degraded')?.status !== 'True' &&
    conditionOf(status.conditions, 'RolloutPending')?.status !== 'True'
  );
}

/**
 * The longest a rollout's progress waits to be written: short against what a user waits for, long
 * enough to fold the burst of child changes that follows a desk's creation into one apply.
 */
export const STATUS_SETTLE_MS = 2_000;

export class StatusSettle {
  /** Per desk, when a status that differs from the stored one was first held back (ms). */
  private readonly since = new Map<string, number>();

  private readonly ms: number;
  private readonly nowMs: () => number;

  constructor(ms: number, nowMs: () => number) {
    this.ms = ms;
    this.nowMs = nowMs;
  }

  /**
   * How long to hold back `next` (which differs from the stored status) before writing it; 0 to
   * write it now. The wait runs from the first status held back, so a desk whose children keep
   * changing is still written every `ms`.
   */
  hold(key: string, next: VelozDeploymentStatus): number {
    if (this.ms <= 0 || !rollingOut(next)) return 0;
    const now = this.nowMs();
    const first = this.since.get(key) ?? now;
    this.since.set(key, first);
    return Math.max(0, first + this.ms - now);
  }

  /** The status was written, or needs no write: the next difference starts a new wait. */
  settled(key: string): void {
    this.since.delete(key);
  }
}
