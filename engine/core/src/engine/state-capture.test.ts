// A capture sees every order as it was at its sequence, however the state changes while it is
// serialized; a checkpoint's tail replays on restore, and a tail that does not follow is refused.
import { describe, expect, it } from 'vitest';
import { RecordType } from '@veloz/wal/format';
import {
  encodeOrderRecord,
  encodeStrategyHalt,
  encodeTradingHalt,
  type OrderRecord,
} from '@veloz/wal/payloads';
import { EngineState, StateError } from './state.ts';
import type { TailRecord } from './state-capture.ts';

const newOrder = (orderId: number): OrderRecord => ({
  type: RecordType.OrderNew,
  data: {
    orderId,
    clientOrderId: `c-${orderId}`,
    symbol: 'BTCUSDT',
    side: 'BUY',
    type: 'LIMIT',
    timeInForce: 'GTC',
    price: 100,
    quantity: 10,
    strategy: '',
  },
});

function commit(s: EngineState, rec: OrderRecord, seq: number, tail?: TailRecord[]): void {
  s.check(rec);
  s.apply(rec, seq, 1000 + seq);
  tail?.push({ seq, timestamp: 1000 + seq, type: rec.type, payload: encodeOrderRecord(rec) });
}

describe('StateCapture', () => {
  it('serializes the orders as they were at the capture, then the tail brings them up to date', () => {
    const live = new EngineState(1);
    for (let i = 1; i <= 5; i++) commit(live, newOrder(i), i);
    const before = JSON.parse(live.snapshot().toString()) as { orders: unknown[] };
    const cap = live.beginCapture();
    expect(cap.step(2)).toBe(false);
    const tail: TailRecord[] = [];
    // Changed after the capture: a fill, a cancel (evicted at once: history limit 1), a new order.
    commit(
      live,
      { type: RecordType.OrderFill, data: { orderId: 4, quantity: 3, price: 99, tradeId: 1 } },
      6,
      tail,
    );
    commit(live, { type: RecordType.OrderCancel, data: { orderId: 5, reason: 'user' } }, 7, tail);
    commit(live, { type: RecordType.OrderCancel, data: { orderId: 3, reason: 'user' } }, 8, tail);
    commit(live, newOrder(6), 9, tail);
    const halt = { halted: true, reason: 'drill' };
    live.applyTrading(halt, 10);
    tail.push({ seq: 10, timestamp: 1010, type: RecordType.TradingHalt, payload: encodeTradingHalt(halt) });
    // A guardrail's halt recorded while the checkpoint was built must survive a restore from it.
    const guard = {
      strategy: 'grid-1',
      halted: true,
      version: 2,
      guardrail: 'maxLoss',
      value: '-12.5',
      limit: '10',
      reason: 'loss past the limit',
    };
    live.applyStrategyHalt(guard, 11, 1011);
    tail.push({
      seq: 11,
      timestamp: 1011,
      type: RecordType.StrategyHalt,
      payload: encodeStrategyHalt(guard),
    });
    const payload = cap.finish(tail);
    live.endCapture(cap);
    const parsed = JSON.parse(payload.toString()) as { orders: unknown[]; lastSequence: number };
    expect(parsed.lastSequence).toBe(5);
    expect(parsed.orders).toEqual(before.orders);
    const restored = new EngineState(1);
    restored.restore(payload);
    expect(JSON.parse(restored.snapshot().toString())).toEqual(JSON.parse(live.snapshot().toString()));
    expect(restored.trading).toEqual(halt);
    expect(restored.strategyHalts.get('grid-1')).toEqual({ ...guard, time: 1011 });
  });

  it('is released by a newer capture and by a restore', () => {
    const s = new EngineState(10);
    commit(s, newOrder(1), 1);
    const a = s.beginCapture();
    const b = s.beginCapture();
    expect(a.active).toBe(false);
    expect(b.active).toBe(true);
    s.restore(s.snapshot());
    expect(b.active).toBe(false);
    expect(() => b.step()).toThrow(/released/);
  });

  it('refuses a tail that does not follow the checkpoint, or holds a record that is not an order or halt', () => {
    const s = new EngineState(10);
    commit(s, newOrder(1), 1);
    const base = JSON.parse(s.snapshot().toString()) as Record<string, unknown>;
    const rec = encodeOrderRecord(newOrder(2)).toString('base64');
    const withTail = (tail: unknown[]) => Buffer.from(JSON.stringify({ ...base, tail }));
    expect(() => new EngineState(10).restore(withTail([[1, 0, RecordType.OrderNew, rec]]))).toThrow(
      new StateError('checkpoint tail: record 1 follows 1'),
    );
    expect(() =>
      new EngineState(10).restore(
        withTail([
          [2, 0, RecordType.OrderNew, rec],
          [4, 0, RecordType.OrderCancel, rec],
        ]),
      ),
    ).toThrow(/record 4 follows 2/);
    expect(() => new EngineState(10).restore(withTail([[2, 0, RecordType.Rotation, rec]]))).toThrow(
      /record 2 has type 6, not an order or halt record/,
    );
  });
});
