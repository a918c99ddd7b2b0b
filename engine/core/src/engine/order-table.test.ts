import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Order } from '../domain/order.ts';
import { testOrder } from '@veloz/testing/orders';
import { OrderTable } from './order-table.ts';

const order = (orderId: number): Order => testOrder({ orderId });

/** The table and the Map it replaced hold the same orders, in the same (insertion = id) order. */
function expectSame(t: OrderTable, m: Map<number, Order>, probes: number[]): void {
  expect(t.size).toBe(m.size);
  expect([...t.keys()]).toEqual([...m.keys()]);
  expect([...t.values()]).toEqual([...m.values()]);
  expect([...t]).toEqual([...m]);
  for (const id of probes) {
    expect(t.get(id)).toBe(m.get(id));
    expect(t.has(id)).toBe(m.has(id));
  }
}

type Op =
  { k: 'add'; skip: number } | { k: 'delete'; pick: number } | { k: 'drain'; keep: number } | { k: 'clear' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ k: fc.constant('add' as const), skip: fc.oneof(fc.constant(0), fc.nat(3000)) }),
  },
  { weight: 5, arbitrary: fc.record({ k: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('drain' as const), keep: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'clear' as const }) },
);

describe('OrderTable', () => {
  it('behaves as a Map of orders added in id order, whatever is added and dropped', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const t = new OrderTable();
        const m = new Map<number, Order>();
        let next = 1;
        const probes = new Set<number>([0, -1, 1, 1.5, Number.NaN]);
        for (const o of ops) {
          if (o.k === 'add') {
            next += o.skip;
            const x = order(next++);
            t.add(x);
            m.set(x.orderId, x);
            probes.add(x.orderId);
          } else if (o.k === 'delete') {
            const ids = [...m.keys()];
            // Sometimes an id that is not there.
            const id = ids.length > 0 && o.pick % 7 !== 0 ? ids[o.pick % ids.length]! : o.pick % (next + 2);
            expect(t.delete(id)).toBe(m.delete(id));
          } else if (o.k === 'drain') {
            // Most orders go, a few old ones stay: what pushes those aside.
            for (let i = 0; i < 2500; i++) {
              const x = order(next++);
              t.add(x);
              m.set(x.orderId, x);
            }
            const ids = [...m.keys()];
            for (const [i, id] of ids.entries())
              if (i >= o.keep && i < ids.length - 5) expect(t.delete(id)).toBe(m.delete(id));
          } else {
            t.clear();
            m.clear();
          }
          probes.add(next);
          expectSame(t, m, [...probes]);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('refuses an id that does not follow the ids it holds', () => {
    const t = new OrderTable();
    t.add(order(5));
    expect(() => t.add(order(5))).toThrow(/ids must ascend/);
    expect(() => t.add(order(3))).toThrow(/ids must ascend/);
    expect(() => t.add(order(0.5))).toThrow(/not a positive integer/);
    t.delete(5);
    // Empty again: any id starts it.
    t.add(order(2));
    expect([...t.keys()]).toEqual([2]);
  });

  it('keeps its array about as long as the orders it holds', () => {
    const t = new OrderTable();
    t.add(order(1));
    for (let id = 2; id <= 200_000; id++) {
      t.add(order(id));
      // A window of 1000 finished orders, and order 1 resting all along.
      if (id > 1001) t.delete(id - 1000);
    }
    expect(t.size).toBe(1001);
    expect(t.get(1)?.orderId).toBe(1);
    expect([...t.keys()].slice(0, 2)).toEqual([1, 199_001]);
    // The array itself: not 200,000 slots for 1001 orders.
    const slots = (t as unknown as { slots: unknown[] }).slots;
    expect(slots.length).toBeLessThan(10_000);
  });
});
