import type { Condition } from '@veloz/api/generated/types';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { EventBatch, type EventRecorder } from './events.ts';
import { pairLostEvents } from './node-events.ts';

const lost = (
  status: 'True' | 'False',
  reason = status === 'True' ? 'NodeNotReady' : 'NoPairLost',
): Condition[] => [
  {
    type: 'PairLost',
    status,
    reason,
    message: `m-${reason}`,
    lastTransitionTime: 't',
    observedGeneration: 1,
  },
];

async function eventsOf(before: Condition[] | undefined, after: Condition[] | undefined): Promise<string[]> {
  const seen: string[] = [];
  const recorder: EventRecorder = {
    record: (_o, type, reason, message) => (seen.push(`${type} ${reason}: ${message}`), Promise.resolve()),
    normal: (_o, reason, message) => (seen.push(`Normal ${reason}: ${message}`), Promise.resolve()),
  };
  const batch = new EventBatch(recorder, pino({ level: 'silent' }));
  pairLostEvents(batch, { metadata: { name: 'd', namespace: 'ns' } }, before, after);
  await batch.settled();
  return seen;
}

describe('PairLost Events', () => {
  it('a Warning PairLost when it turns True, once: not again while it stays True', async () => {
    expect(await eventsOf(lost('False'), lost('True'))).toEqual(['Warning PairLost: m-NodeNotReady']);
    expect(await eventsOf(undefined, lost('True'))).toEqual(['Warning PairLost: m-NodeNotReady']);
    expect(await eventsOf(lost('True'), lost('True', 'NodeDeleted'))).toEqual([]);
  });

  it('a Normal PairRecovered when it goes back to False; none on a steady False', async () => {
    expect(await eventsOf(lost('True'), lost('False'))).toEqual(['Normal PairRecovered: m-NoPairLost']);
    expect(await eventsOf(lost('False'), lost('False'))).toEqual([]);
    expect(await eventsOf(undefined, lost('False'))).toEqual([]);
    expect(await eventsOf(lost('True'), undefined)).toEqual([]);
  });
});
