// Reads a WAL directory into the engine's order state, the way the engine replays it at start.
import { EngineState } from '@veloz/engine/engine/state';
import { decodeOrderRecord } from '@veloz/wal/payloads';
import { recoverWal } from '@veloz/wal/recovery';

export async function walState(dir: string): Promise<EngineState> {
  const state = new EngineState(10_000_000);
  await recoverWal(dir, 'strict', {
    onCheckpoint: (_seq, payload) => state.restore(payload),
    onRecord: (r) => {
      const rec = decodeOrderRecord(r.type, r.payload);
      state.check(rec);
      state.apply(rec, r.seq, r.timestamp);
    },
  });
  return state;
}
