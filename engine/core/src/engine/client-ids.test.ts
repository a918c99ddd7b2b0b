import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Order } from '../domain/order.ts';
import { testOrder } from '@veloz/testing/orders';
import { ClientIds } from './client-ids.ts';
import { OrderTable } from './order-table.ts';

/** The index and the Map it replaced (clientOrderId -> orderId) hold the same entries. */
function expectSame(ids: ClientIds, m: Map<string, number>, probes: Iterable<string>): void {
  expect(ids.size).toBe(m.size);
  expect([...ids]).toEqual([...m]);
  expect([...ids.keys()]).toEqual([...m.keys()]);
  expect([...ids.values()]).toEqual([...m.values()]);
  for (const cid of probes) {
    expect(ids.get(cid)).toBe(m.get(cid));
    expect(ids.has(cid)).toBe(m.has(cid));
  }
}

type Op = { k: 'add'; cid: string } | { k: 'drop'; pick: number } | { k: 'many'; n: number } | { k: 'clear' };

// Few distinct ids, so that dropped ids come back, and ids that differ in one character.
const cid = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.nat(40).map((n) => `c-${n}`),
  fc.constantFrom('', 'é', '\u{1F600}', 'x'.repeat(70)),
);

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('add' as const), cid }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant('drop' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('many' as const), n: fc.nat(600) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'clear' as const }) },
);

describe('ClientIds', () => {
  it('behaves as a Map of the held orders by clientOrderId, whatever is added and dropped', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const table = new OrderTable();
        const ids = new ClientIds(table);
        const m = new Map<string, number>();
        const held = new Map<number, Order>();
        const probes = new Set<string>(['', 'nope']);
        let next = 1;
        const add = (clientOrderId: string): void => {
          const o = testOrder({ orderId: next++, clientOrderId });
          if (m.has(clientOrderId)) {
            expect(() => ids.add(o)).toThrow(RangeError);
            return;
          }
          table.add(o);
          ids.add(o);
          m.set(clientOrderId, o.orderId);
          held.set(o.orderId, o);
          probes.add(clientOrderId);
        };
        const drop = (o: Order): void => {
          table.delete(o.orderId);
          expect(ids.remove(o)).toBe(true);
          expect(ids.remove(o)).toBe(false);
          m.delete(o.clientOrderId);
          held.delete(o.orderId);
        };
        for (const o of ops) {
          if (o.k === 'add') add(o.cid);
          else if (o.k === 'drop') {
            const os = [...held.values()];
            if (os.length > 0) drop(os[o.pick % os.length]!);
          } else if (o.k === 'many') {
            // Grows and shrinks the slots: many orders come, most go again.
            for (let i = 0; i < o.n; i++) add(`many-${next}`);
            for (const x of [...held.values()]) if (x.orderId % 5 !== 0) drop(x);
          } else {
            table.clear();
            ids.clear();
            m.clear();
            held.clear();
          }
          expect(ids.size).toBe(m.size);
        }
        expectSame(ids, m, probes);
      }),
      { numRuns: 200 },
    );
  });

  it('does not drop another order that has the same clientOrderId', () => {
    const table = new OrderTable();
    const ids = new ClientIds(table);
    const a = testOrder({ orderId: 1, clientOrderId: 'same' });
    table.add(a);
    ids.add(a);
    expect(ids.remove(testOrder({ orderId: 2, clientOrderId: 'same' }))).toBe(false);
    expect(ids.get('same')).toBe(1);
  });
});
