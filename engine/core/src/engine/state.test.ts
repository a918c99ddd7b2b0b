import { describe, expect, it } from 'vitest';
import { IllegalTransitionError, type OrderStatus } from '../domain/order-state.ts';
import { RecordType } from '@veloz/wal/format';
import type { OrderRecord } from '@veloz/wal/payloads';
import { newOrderRecord as newOrder } from '@veloz/testing/orders';
import { EngineState, StateError } from './state.ts';

const update = (orderId: number, status: OrderStatus, reason = '', exchangeOrderId = ''): OrderRecord => ({
  type: RecordType.OrderUpdate,
  data: { orderId, status, reason, exchangeOrderId },
});
const fill = (orderId: number, quantity: number, price = 5_000_000, tradeId = 1): OrderRecord => ({
  type: RecordType.OrderFill,
  data: { orderId, quantity, price, tradeId },
});
const cancel = (orderId: number, reason = 'user'): OrderRecord => ({
  type: RecordType.OrderCancel,
  data: { orderId, reason },
});

/** check + apply like the engine does; returns the error of a refused record, leaving state alone. */
function run(state: EngineState, recs: OrderRecord[]): void {
  let seq = state.lastSequence;
  for (const r of recs) {
    state.check(r);
    seq += 1;
    state.apply(r, seq, 1000 + seq);
  }
}

interface Case {
  name: string;
  setup: OrderRecord[];
  rec: OrderRecord;
  /** Error class and message fragment, or null when the record applies. */
  error: null | [new (...args: never[]) => Error, RegExp];
  status?: OrderStatus;
  filled?: number;
}

const CASES: Case[] = [
  { name: 'first order', setup: [], rec: newOrder(1), error: null, status: 'NEW' },
  {
    name: 'order ids are consecutive',
    setup: [newOrder(1)],
    rec: newOrder(3),
    error: [StateError, /order id 3 out of order \(expected 2\)/],
  },
  {
    name: 'order id reused',
    setup: [newOrder(1)],
    rec: newOrder(1, { clientOrderId: 'x' }),
    error: [StateError, /out of order/],
  },
  {
    name: 'clientOrderId is unique',
    setup: [newOrder(1)],
    rec: newOrder(2, { clientOrderId: 'c1' }),
    error: [StateError, /clientOrderId c1 exists/],
  },
  {
    name: 'clientOrderId of a terminal order still in history is unique',
    setup: [newOrder(1), cancel(1)],
    rec: newOrder(2, { clientOrderId: 'c1' }),
    error: [StateError, /clientOrderId c1 exists/],
  },
  { name: 'zero quantity', setup: [], rec: newOrder(1, { quantity: 0 }), error: [StateError, /positive/] },
  {
    name: 'update of a missing order',
    setup: [],
    rec: update(5, 'ACCEPTED'),
    error: [StateError, /order 5 does not exist/],
  },
  {
    name: 'NEW -> ACCEPTED',
    setup: [newOrder(1)],
    rec: update(1, 'ACCEPTED'),
    error: null,
    status: 'ACCEPTED',
  },
  {
    name: 'ACCEPTED -> PENDING_CANCEL',
    setup: [newOrder(1), update(1, 'ACCEPTED')],
    rec: update(1, 'PENDING_CANCEL'),
    error: null,
    status: 'PENDING_CANCEL',
  },
  {
    name: 'NEW -> PENDING_CANCEL is illegal',
    setup: [newOrder(1)],
    rec: update(1, 'PENDING_CANCEL'),
    error: [IllegalTransitionError, /NEW -> PENDING_CANCEL/],
  },
  {
    name: 'fill statuses only come from fills',
    setup: [newOrder(1)],
    rec: update(1, 'FILLED'),
    error: [StateError, /fill records/],
  },
  {
    name: 'PARTIALLY_FILLED via update is refused',
    setup: [newOrder(1), fill(1, 2)],
    rec: update(1, 'PARTIALLY_FILLED'),
    error: [StateError, /fill records/],
  },
  {
    name: 'update of a rejected order',
    setup: [newOrder(1), update(1, 'REJECTED')],
    rec: update(1, 'ACCEPTED'),
    error: [IllegalTransitionError, /REJECTED -> ACCEPTED/],
  },
  {
    name: 'UNKNOWN may be resolved to CANCELED',
    setup: [newOrder(1), update(1, 'UNKNOWN')],
    rec: update(1, 'CANCELED'),
    error: null,
    status: 'CANCELED',
  },
  {
    name: 'partial fill',
    setup: [newOrder(1)],
    rec: fill(1, 4),
    error: null,
    status: 'PARTIALLY_FILLED',
    filled: 4,
  },
  {
    name: 'fills that add up to the quantity',
    setup: [newOrder(1), fill(1, 4)],
    rec: fill(1, 6),
    error: null,
    status: 'FILLED',
    filled: 10,
  },
  { name: 'overfill in one fill', setup: [newOrder(1)], rec: fill(1, 11), error: [StateError, /overfills/] },
  {
    name: 'overfill across fills',
    setup: [newOrder(1), fill(1, 9)],
    rec: fill(1, 2),
    error: [StateError, /fill of 2 overfills order 1/],
  },
  { name: 'zero fill', setup: [newOrder(1)], rec: fill(1, 0), error: [StateError, /overfills/] },
  {
    name: 'fill of a filled order',
    setup: [newOrder(1), fill(1, 10)],
    rec: fill(1, 1),
    error: [StateError, /cannot be filled in status FILLED/],
  },
  {
    name: 'fill of a canceled order',
    setup: [newOrder(1), cancel(1)],
    rec: fill(1, 1),
    error: [StateError, /cannot be filled in status CANCELED/],
  },
  {
    name: 'fill while a cancel is pending wins the race',
    setup: [newOrder(1), update(1, 'ACCEPTED'), update(1, 'PENDING_CANCEL')],
    rec: fill(1, 10),
    error: null,
    status: 'FILLED',
    filled: 10,
  },
  { name: 'fill of a missing order', setup: [], rec: fill(9, 1), error: [StateError, /does not exist/] },
  { name: 'cancel of a new order', setup: [newOrder(1)], rec: cancel(1), error: null, status: 'CANCELED' },
  {
    name: 'cancel of a partially filled order',
    setup: [newOrder(1), fill(1, 3)],
    rec: cancel(1),
    error: null,
    status: 'CANCELED',
    filled: 3,
  },
  ...(['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED'] as const).map((terminal): Case => ({
    name: `cancel of a ${terminal} order`,
    setup: [newOrder(1), terminal === 'FILLED' ? fill(1, 10) : update(1, terminal)],
    rec: cancel(1),
    error: [IllegalTransitionError, new RegExp(`${terminal} -> CANCELED`)],
  })),
  { name: 'cancel of a missing order', setup: [], rec: cancel(1), error: [StateError, /does not exist/] },
];

describe('EngineState check + apply', () => {
  it.each(CASES)('$name', (c) => {
    const state = new EngineState(100);
    run(state, c.setup);
    const before = state.snapshot().toString();
    if (c.error) {
      const [cls, msg] = c.error;
      expect(() => state.check(c.rec)).toThrow(cls);
      expect(() => state.check(c.rec)).toThrow(msg);
      // check() never changes anything, even when it refuses.
      expect(state.snapshot().toString()).toBe(before);
      return;
    }
    state.check(c.rec);
    expect(state.snapshot().toString()).toBe(before);
    const o = state.apply(c.rec, state.lastSequence + 1, 5000);
    expect(o.lastSequence).toBe(state.lastSequence);
    expect(o.updatedAt).toBe(5000);
    if (c.status) expect(o.status).toBe(c.status);
    if (c.filled !== undefined) expect(o.filledQuantity).toBe(c.filled);
    expect(state.open.has(o.orderId)).toBe(!['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED'].includes(o.status));
    // The count kept record by record agrees with the orders (open orders are a view, not a Set).
    expect(state.open.size).toBe([...state.orders.values()].filter((x) => state.open.has(x.orderId)).length);
  });

  it('keeps order fields, reasons and exchange ids', () => {
    const s = new EngineState(10);
    run(s, [
      newOrder(1, { strategy: 'grid', side: 'SELL', type: 'MARKET', timeInForce: 'IOC', price: 0 }),
      update(1, 'SUBMITTED', '', 'ex-1'),
      update(1, 'UNKNOWN', 'timeout'),
    ]);
    expect(s.orders.get(1)).toMatchObject({
      orderId: 1,
      clientOrderId: 'c1',
      strategy: 'grid',
      side: 'SELL',
      type: 'MARKET',
      timeInForce: 'IOC',
      status: 'UNKNOWN',
      // An update without an exchange id keeps the one already known.
      exchangeOrderId: 'ex-1',
      reason: 'timeout',
      createdAt: 1001,
      updatedAt: 1003,
      lastSequence: 3,
    });
    expect(s.byClientId.get('c1')).toBe(1);
    expect(s.strategyOrders.get('grid')).toBe(1);
    expect(s.nextOrderId).toBe(2);
  });

  it('books fills into the account and the strategy position', () => {
    const s = new EngineState(10);
    run(s, [
      newOrder(1, { strategy: 'mm', quantity: 10 }),
      fill(1, 4, 100, 7),
      fill(1, 6, 110, 8),
      newOrder(2, { side: 'SELL', quantity: 5 }),
      fill(2, 5, 130, 9),
    ]);
    const o = s.orders.get(1)!;
    expect(o.filledNotional).toBe(4n * 100n + 6n * 110n);
    expect(s.findPosition('', 'BTCUSDT')?.net).toBe(5);
    // FIFO: the 4 @ 100 lot and 1 of the 6 @ 110 lot are closed at 130.
    expect(s.findPosition('', 'BTCUSDT')?.realized).toBe(4n * 30n + 1n * 20n);
    expect(s.findPosition('mm', 'BTCUSDT')?.net).toBe(10);
    expect(s.findPosition('mm', 'BTCUSDT')?.realized).toBe(0n);
    expect(s.findPosition('mm', 'ETHUSDT')).toBeUndefined();
    expect(s.nextTradeId).toBe(10);
  });

  it.each([
    { limit: 0, evicted: [1, 2, 3] },
    { limit: 1, evicted: [1, 2] },
    { limit: 2, evicted: [2] },
    { limit: 3, evicted: [] },
  ])('evicts terminal orders beyond a history of $limit, oldest first', ({ limit, evicted }) => {
    const s = new EngineState(limit);
    // Orders 1-3 end in this order: 2, 1, 3; order 4 stays open.
    run(s, [
      newOrder(1),
      newOrder(2),
      newOrder(3),
      newOrder(4),
      cancel(2),
      fill(1, 10),
      update(3, 'REJECTED'),
    ]);
    const endOrder = [2, 1, 3];
    const gone = endOrder.slice(0, endOrder.length - limit).sort();
    expect(gone).toEqual(evicted.slice().sort());
    for (const id of [1, 2, 3, 4]) {
      expect(s.orders.has(id)).toBe(!gone.includes(id));
      expect(s.byClientId.has(`c${id}`)).toBe(!gone.includes(id));
    }
    expect([...s.open]).toEqual([4]);
    // An evicted order is gone for good: records about it are refused, its clientOrderId is free.
    if (gone.length > 0) {
      const id = gone[0]!;
      expect(() => s.check(cancel(id))).toThrow(/does not exist/);
      expect(() => s.check(newOrder(5, { clientOrderId: `c${id}` }))).not.toThrow();
    }
    // Positions survive eviction.
    expect(s.findPosition('', 'BTCUSDT')?.net).toBe(10);
  });

  it('compacts the history index without losing order', () => {
    const s = new EngineState(3);
    const recs: OrderRecord[] = [];
    for (let id = 1; id <= 3000; id++) recs.push(newOrder(id), cancel(id));
    run(s, recs);
    expect([...s.orders.keys()]).toEqual([2998, 2999, 3000]);
    const snap = JSON.parse(s.snapshot().toString());
    expect(snap.history).toEqual([2998, 2999, 3000]);
  });
});

describe('EngineState snapshot/restore', () => {
  function busyState(): EngineState {
    const s = new EngineState(2);
    run(s, [
      newOrder(1, { strategy: 'grid' }),
      fill(1, 3, 100, 1),
      newOrder(2, { side: 'SELL', symbol: 'ETHUSDT' }),
      update(2, 'ACCEPTED', '', 'e2'),
      newOrder(3),
      cancel(3),
      newOrder(4),
      fill(4, 10, 90, 2),
      newOrder(5, { strategy: 'grid' }),
      update(5, 'EXPIRED', 'ioc'),
    ]);
    s.marks.set('BTCUSDT', 95);
    return s;
  }

  it('restores an identical state', () => {
    const s = busyState();
    const r = new EngineState(2);
    r.restore(s.snapshot());
    expect(r.snapshot().toString()).toBe(s.snapshot().toString());
    expect([...r.open].sort()).toEqual([...s.open].sort());
    expect([...r.byClientId]).toEqual([...s.byClientId]);
    expect(r.orders.get(1)?.filledNotional).toBe(300n);
  });

  it('behaves like the original after a restore', () => {
    const s = busyState();
    const r = new EngineState(2);
    r.restore(s.snapshot());
    const more = [fill(1, 7, 120, 3), cancel(2), newOrder(6, { clientOrderId: 'c6' }), update(6, 'REJECTED')];
    run(s, more);
    run(r, more);
    expect(r.snapshot().toString()).toBe(s.snapshot().toString());
    // The duplicate check works on restored orders too.
    expect(() => r.check(newOrder(7, { clientOrderId: 'c6' }))).toThrow(/exists/);
  });

  it('replaces everything, marks included', () => {
    const s = busyState();
    const other = new EngineState(2);
    run(other, [newOrder(1, { clientOrderId: 'zzz' })]);
    other.marks.set('DOGEUSDT', 1);
    other.position('x', 'DOGEUSDT').applyFill('BUY', 1, 1);
    other.restore(s.snapshot());
    expect(other.snapshot().toString()).toBe(s.snapshot().toString());
    expect(other.marks.has('DOGEUSDT')).toBe(false);
    expect(other.byClientId.has('zzz')).toBe(false);
  });

  it('refuses an unknown checkpoint version', () => {
    expect(() => new EngineState(1).restore(Buffer.from('{"version":2}'))).toThrow(/version 2/);
  });
});

describe('EngineState idempotency window', () => {
  const WINDOW = 10_000;
  /** Applies records at the given times (ms), as the engine does. */
  function at(s: EngineState, t: number, recs: OrderRecord[]): void {
    for (const r of recs) {
      s.check(r);
      s.apply(r, s.lastSequence + 1, t);
    }
  }

  it('keeps API orders whole for the window past the history limit, strategy orders not', () => {
    const s = new EngineState(1, undefined, { idempotencyWindowMs: WINDOW });
    at(s, 0, [newOrder(1), cancel(1), newOrder(2, { strategy: 'grid' }), cancel(2)]);
    at(s, 1000, [newOrder(3), cancel(3), newOrder(4, { strategy: 'grid' }), cancel(4)]);
    // 1 and 3 are API orders inside the window; 2 (a strategy's) left with the history limit.
    expect([...s.orders.keys()].sort()).toEqual([1, 3, 4]);
    expect(s.byClientId.get('c1')).toBe(1);
  });

  it('drops them after the window, remembering their clientOrderIds for one more window', () => {
    const s = new EngineState(1, undefined, { idempotencyWindowMs: WINDOW });
    at(s, 0, [newOrder(1), cancel(1), newOrder(2, { clientOrderId: 'veloz-2' }), cancel(2)]);
    at(s, WINDOW + 1, [newOrder(3), cancel(3)]);
    expect([...s.orders.keys()]).toEqual([3]);
    // An engine-generated id is never retried by a client, so it is not remembered.
    expect([...s.forgotten]).toEqual([['c1', { orderId: 1, createdAt: 0 }]]);
    at(s, 2 * WINDOW + 1, [newOrder(4), cancel(4)]);
    // c1 is two windows old: forgotten for good; 3 has just left its own window.
    expect([...s.forgotten.keys()]).toEqual(['c3']);
  });

  it('carries kept orders and remembered ids through a checkpoint, and a replay evicts the same', () => {
    const s = new EngineState(1, undefined, { idempotencyWindowMs: WINDOW });
    at(s, 0, [newOrder(1), cancel(1), newOrder(2), cancel(2)]);
    at(s, WINDOW + 1, [newOrder(3), cancel(3), newOrder(4), cancel(4)]);
    const r = new EngineState(1, undefined, { idempotencyWindowMs: WINDOW });
    r.restore(s.snapshot());
    expect(r.snapshot().toString()).toBe(s.snapshot().toString());
    expect([...r.forgotten.keys()].sort()).toEqual(['c1', 'c2']);
    expect([...r.orders.keys()].sort()).toEqual([3, 4]);
    const more: OrderRecord[] = [newOrder(5), cancel(5)];
    at(s, 2 * WINDOW + 2, more);
    at(r, 2 * WINDOW + 2, more);
    expect(r.snapshot().toString()).toBe(s.snapshot().toString());
    expect([...r.orders.keys()]).toEqual([5]);
  });

  it('restores an older checkpoint without kept orders or a halt', () => {
    const old = JSON.parse(new EngineState(1).snapshot().toString()) as Record<string, unknown>;
    expect(old).not.toHaveProperty('retained');
    const r = new EngineState(1, undefined, { idempotencyWindowMs: WINDOW });
    r.restore(Buffer.from(JSON.stringify(old)));
    expect(r.trading).toBeNull();
    expect(r.forgotten.size).toBe(0);
  });

  it('keeps the last halt or resume in its checkpoint', () => {
    const s = new EngineState(1);
    s.applyTrading({ halted: true, reason: 'incident' }, 1);
    const r = new EngineState(1);
    r.restore(s.snapshot());
    expect(r.trading).toEqual({ halted: true, reason: 'incident' });
    expect(r.lastSequence).toBe(1);
  });

  it('keeps each strategy’s last guardrail halt in its checkpoint; an older checkpoint has none', () => {
    const s = new EngineState(1);
    const halt = {
      strategy: 'grid',
      halted: true,
      version: 2,
      guardrail: 'maxLoss',
      value: '-3.0000000',
      limit: '2.00',
      reason: 'PnL reached maxLoss',
    };
    s.applyStrategyHalt(halt, 1, 1_000);
    const r = new EngineState(1);
    r.restore(s.snapshot());
    expect(r.strategyHalts.get('grid')).toEqual({ ...halt, time: 1_000 });
    const old = JSON.parse(new EngineState(1).snapshot().toString()) as Record<string, unknown>;
    expect(old).not.toHaveProperty('strategyHalts');
    r.restore(Buffer.from(JSON.stringify(old)));
    expect(r.strategyHalts.size).toBe(0);
  });
});
