// The order-state digest of a restore drill (ADR 0024): what a WAL replays into, reduced to the
// part that decides trading (open orders, positions, fees, halts, the next ids). Finished orders
// are left out: how many of them the state keeps depends on the engine's configuration
// (VELOZ_ORDER_HISTORY, the idempotency window), not on the log, and none of them can trade again.
import { createHash } from 'node:crypto';
import { recoverWal } from '@veloz/wal/recovery';
import { EngineState } from './state.ts';
import { stateReplayHandler } from './replay-handler.ts';
import { serializeOrder } from './state-capture.ts';

export interface ReplayedState {
  /** The last sequence the log holds. */
  sequence: number;
  /** Records replayed from the newest checkpoint on (the checkpoint counts as one). */
  entriesReplayed: number;
  /** `sha256:<hex>` of the order state (orderStateDigest). */
  digest: string;
  openOrders: number;
  durationMs: number;
}

/** Orders kept while replaying: enough for any log, since finished orders are not digested. */
const REPLAY_HISTORY = 1000;

const byKey = <T>(a: [string, T], b: [string, T]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** A digest that depends only on the records replayed, in any engine that replays them alike. */
export function orderStateDigest(s: EngineState): string {
  const open = [...s.open].sort((a, b) => a - b).map((id) => serializeOrder(s.orders.get(id)!));
  const body = {
    nextOrderId: s.nextOrderId,
    nextTradeId: s.nextTradeId,
    open,
    positions: [...s.positions].map(([k, p]) => [k, p.snapshot()] as [string, unknown]).sort(byKey),
    commissions: [...s.commissions].map(([k, v]) => [k, v.toString()] as [string, string]).sort(byKey),
    trading: s.trading,
    strategyHalts: [...s.strategyHalts].sort(byKey),
  };
  return `sha256:${createHash('sha256').update(JSON.stringify(body)).digest('hex')}`;
}

/**
 * Replays the WAL in `dir` with the engine's own recovery (strict: any damage is an error) and
 * state code, and digests the result. The directory is opened for writing like at an engine's
 * start (a missing orders_current.wal is created), so give it a copy, never a live engine's WAL.
 */
export async function replayWal(dir: string): Promise<ReplayedState> {
  const t0 = performance.now();
  const state = new EngineState(REPLAY_HISTORY);
  const rec = await recoverWal(dir, 'strict', stateReplayHandler(state));
  return {
    sequence: rec.lastSequence,
    entriesReplayed: rec.replayedEntries,
    digest: orderStateDigest(state),
    openOrders: state.open.size,
    durationMs: performance.now() - t0,
  };
}
