// How a WAL replays into the engine's state: the engine at start, the restore drill's digest,
// the benchmarks and the test kits all recover through this one handler, so that what they
// measure and check is what the engine does.
import type { ReplayHandler } from '@veloz/wal/recovery';
import { StateError, type EngineState } from './state.ts';

/**
 * A recovery handler that restores `state` from each checkpoint and replays every record after
 * it; `onCheckpoint` also hears of each checkpoint (its sequence and time), after the restore.
 */
export function stateReplayHandler(
  state: EngineState,
  onCheckpoint?: (seq: number, timestamp: number) => void,
): ReplayHandler {
  return {
    onCheckpoint: (seq, payload, timestamp) => {
      state.restore(payload);
      onCheckpoint?.(seq, timestamp);
    },
    // The record's bytes and bounds, not a view of its payload: nothing is allocated per record.
    onRecord: (r) => {
      if (!state.replay(r.type, r.bytes, r.seq, r.timestamp, r.payloadStart, r.payloadEnd))
        throw new StateError(`WAL record ${r.seq} has type ${r.type}, not an order or halt record`);
    },
  };
}
