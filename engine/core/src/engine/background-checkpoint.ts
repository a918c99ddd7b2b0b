// Checkpoints built off the order path (ADR 0019): the WAL writer asks for one inside append()
// (at an interval, or for a rotation) or when one is requested; the state is captured there and
// then serialized a slice per event-loop turn, so an order arriving meanwhile waits for one
// slice, not for the whole state. The writer then keeps it in its own file and appends a small
// record naming it (a rotation's starts the new segment).
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { BackgroundCheckpoint, WalWriter } from '@veloz/wal/writer';
import type { EngineState } from './state.ts';
import { CAPTURE_SLICE_ORDERS, encodeTail } from './state-capture.ts';

export interface BackgroundCheckpointOptions {
  /** Orders serialized per event-loop turn. */
  sliceOrders?: number;
  /** A build failed (a bug, or memory): the WAL starts another at the next interval. */
  onError?: (err: unknown) => void;
  /** Test seam: runs between slices (e.g. to append records while a build is under way). */
  betweenSlices?: () => void | Promise<void>;
}

export function backgroundCheckpoints(
  state: EngineState,
  wal: WalWriter,
  opts: BackgroundCheckpointOptions = {},
): BackgroundCheckpoint {
  const slice = opts.sliceOrders ?? CAPTURE_SLICE_ORDERS;
  return (_sequence, generation) => {
    // Synchronously, inside append() (or between appends, for a checkpoint asked for): the state
    // holds every record before the one being appended.
    const cap = state.beginCapture();
    let failure: unknown;
    void (async () => {
      try {
        while (wal.checkpointWanted(generation) && cap.active && !cap.step(slice)) {
          await nextTurn();
          await opts.betweenSlices?.();
        }
        if (!cap.active || !wal.checkpointWanted(generation)) return;
        // The state as of the capture goes to its own file; the records appended meanwhile (and
        // while the file is written) ride in the reference record as the tail.
        const snapshot = cap.finish([]);
        state.endCapture(cap);
        await wal.completeCheckpoint(generation, snapshot, (tail) =>
          tail.length > 0 ? { tail: encodeTail(tail) } : {},
        );
      } catch (err) {
        failure = err ?? new Error('checkpoint build failed');
        opts.onError?.(err);
      } finally {
        state.endCapture(cap);
        wal.abandonCheckpoint(generation, failure);
      }
    })();
  };
}
