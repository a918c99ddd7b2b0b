// PairLost's Events: a Warning `PairLost` when it turns True and a Normal `PairRecovered` when it
// goes back, once per transition (the status before and after this pass), never on a steady pass.
// Their own reasons, not the condition's (NodeNotReady, NodeDeleted): an alert or a person watching
// Events looks for one word.
import type { Condition } from '@veloz/api/generated/types';
import { conditionOf } from '../status/conditions.ts';
import { PAIR_LOST } from '../status/node-status.ts';
import type { EventBatch } from './events.ts';

export function pairLostEvents(
  events: EventBatch,
  obj: Parameters<EventBatch['record']>[0],
  before: Condition[] | undefined,
  after: Condition[] | undefined,
): void {
  const was = conditionOf(before, PAIR_LOST)?.status === 'True';
  const now = conditionOf(after, PAIR_LOST);
  if (!now) return;
  if (!was && now.status === 'True') events.record(obj, 'Warning', 'PairLost', now.message);
  if (was && now.status === 'False') events.record(obj, 'Normal', 'PairRecovered', now.message);
}
