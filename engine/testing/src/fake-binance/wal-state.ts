// Reads a WAL directory into the engine's order state, the way the engine replays it at start.
import { EngineState } from '@veloz/engine/engine/state';
import { RecordType } from '@veloz/wal/format';
import { decodeOrderRecord, decodeStrategyHalt, decodeTradingHalt } from '@veloz/wal/payloads';
import { recoverWal } from '@veloz/wal/recovery';

export async function walState(dir: string): Promise<EngineState> {
  const state = new EngineState(10_000_000);
  await recoverWal(dir, 'strict', {
    onCheckpoint: (_seq, payload) => state.restore(payload),
    onRecord: (r) => {
      // A halt (the reconciler's, say) is part of the history, not an order record.
      if (r.type === RecordType.TradingHalt) {
        state.applyTrading(decodeTradingHalt(r.payload), r.seq);
        return;
      }
      if (r.type === RecordType.StrategyHalt) {
        state.applyStrategyHalt(decodeStrategyHalt(r.payload), r.seq, r.timestamp);
        return;
      }
      const rec = decodeOrderRecord(r.type, r.payload);
      state.check(rec);
      state.apply(rec, r.seq, r.timestamp);
    },
  });
  return state;
}
