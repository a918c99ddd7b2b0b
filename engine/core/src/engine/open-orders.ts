// The ids of the orders not yet in a terminal status. Every open order is in the order table
// (only finished orders leave it), so this is a view of the table plus a count the state keeps,
// not a Set of its own: replay opens and closes an order every few records, and a Set hashed and
// rehashed for each (ADR 0029). Reads look like a ReadonlySet's: `size`, `has`, iteration.
import { isTerminal } from '../domain/order-state.ts';
import type { OrderTable } from './order-table.ts';

export class OpenOrders implements Iterable<number> {
  private readonly orders: OrderTable;
  private count = 0;

  constructor(orders: OrderTable) {
    this.orders = orders;
  }

  get size(): number {
    return this.count;
  }

  has(orderId: number): boolean {
    const o = this.orders.get(orderId);
    return o !== undefined && !isTerminal(o.status);
  }

  /** In id order; it walks the whole table (finished orders too), so it is for starts and drills. */
  *[Symbol.iterator](): IterableIterator<number> {
    for (const o of this.orders.values()) if (!isTerminal(o.status)) yield o.orderId;
  }

  /** An open order entered the table. */
  opened(): void {
    this.count += 1;
  }

  /** An open order took a terminal status. */
  closed(): void {
    this.count -= 1;
  }

  /** The table was emptied. */
  clear(): void {
    this.count = 0;
  }
}
