import { describe, expect, it } from 'vitest';
import { testOrder } from '@veloz/testing/orders';
import { OpenOrders } from './open-orders.ts';
import { OrderTable } from './order-table.ts';

describe('OpenOrders', () => {
  it('lists the orders of the table not in a terminal status, in id order, and counts what it is told', () => {
    const table = new OrderTable();
    const open = new OpenOrders(table);
    for (const [orderId, status] of [
      [1, 'FILLED'],
      [2, 'ACCEPTED'],
      [3, 'CANCELED'],
      [4, 'PARTIALLY_FILLED'],
      [5, 'NEW'],
    ] as const)
      table.add(testOrder({ orderId, status }));
    for (let i = 0; i < 3; i++) open.opened();
    expect([...open]).toEqual([2, 4, 5]);
    expect([1, 2, 3, 4, 5, 6].map((id) => open.has(id))).toEqual([false, true, false, true, true, false]);
    expect(open.size).toBe(3);
    table.get(4)!.status = 'FILLED';
    open.closed();
    expect([...open]).toEqual([2, 5]);
    expect(open.size).toBe(2);
    open.clear();
    expect(open.size).toBe(0);
  });
});
