// The engine's orders by order id. Order ids are handed out one after the other (a new order
// takes nextOrderId), so the orders live in an array indexed by `orderId - base` instead of a
// Map: replay adds, finds and drops an order for every few records, and a Map hashes each time
// and rehashes as orders come and go (ADR 0029). Reads look like a ReadonlyMap's, in id order.
import type { Order } from '../domain/order.ts';

/** Below this many slots the array is never compacted (cheaper than the bookkeeping). */
const MIN_COMPACT = 1024;

export class OrderTable {
  /** `slots[i]` is the order with id `base + i`, or undefined once it left (or never existed). */
  private slots: Array<Order | undefined> = [];
  private base = 1;
  /** Slots before this one are all empty. */
  private head = 0;
  /**
   * Orders with ids below `base`: the few that stay while thousands after them come and go (an
   * order resting for days, one kept for the idempotency window). Ascending, as they are moved
   * here from the front of `slots` only.
   */
  private readonly far = new Map<number, Order>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(orderId: number): Order | undefined {
    const i = orderId - this.base;
    if (i >= 0) return i < this.slots.length ? this.slots[i] : undefined;
    return this.far.size > 0 ? this.far.get(orderId) : undefined;
  }

  has(orderId: number): boolean {
    return this.get(orderId) !== undefined;
  }

  /**
   * Adds `o`, whose id must be above every id the table holds (a new order takes the next id; a
   * checkpoint lists its orders in id order).
   */
  add(o: Order): void {
    const id = o.orderId;
    if (!Number.isSafeInteger(id) || id < 1) throw new RangeError(`order id ${id} is not a positive integer`);
    if (this.count === 0) {
      // Nothing held: the array starts at this id, whatever came before.
      this.slots = [];
      this.head = 0;
      this.base = id;
    } else if (id < this.base + this.slots.length)
      throw new RangeError(`order ${id} does not follow the orders held (ids must ascend)`);
    let gap = id - this.base - this.slots.length;
    if (gap > MIN_COMPACT && gap > this.slots.length) {
      // A long run of ids that are not here (a checkpoint of a few old orders and recent ones):
      // the old ones move aside instead of the array growing over the gap.
      this.moveFar(this.slots.length);
      this.base = id;
      gap = 0;
    }
    for (; gap > 0; gap--) this.slots.push(undefined);
    this.slots.push(o);
    this.count += 1;
  }

  /** Removes the order with `orderId`; returns whether it was there. */
  delete(orderId: number): boolean {
    const i = orderId - this.base;
    if (i < 0) return this.far.delete(orderId) && this.dropped();
    if (i >= this.slots.length || this.slots[i] === undefined) return false;
    this.slots[i] = undefined;
    if (i === this.head) {
      const slots = this.slots;
      let h = i + 1;
      while (h < slots.length && slots[h] === undefined) h++;
      this.head = h;
    }
    this.dropped();
    this.compact();
    return true;
  }

  clear(): void {
    this.slots = [];
    this.head = 0;
    this.base = 1;
    this.far.clear();
    this.count = 0;
  }

  *keys(): IterableIterator<number> {
    for (const o of this.values()) yield o.orderId;
  }

  /** In id order. Orders added during the iteration are visited; dropped ones are not. */
  *values(): IterableIterator<Order> {
    let last = 0;
    for (const o of this.far.values()) {
      last = o.orderId;
      yield o;
    }
    // By id, not by index: the array may be compacted between two steps.
    for (let id = Math.max(last + 1, this.base + this.head); id < this.base + this.slots.length; id++) {
      const o = this.get(id);
      if (o !== undefined) yield o;
    }
  }

  *entries(): IterableIterator<[number, Order]> {
    for (const o of this.values()) yield [o.orderId, o];
  }

  [Symbol.iterator](): IterableIterator<[number, Order]> {
    return this.entries();
  }

  private dropped(): true {
    this.count -= 1;
    return true;
  }

  /**
   * Keeps the array about as long as the orders it holds: empty slots at its front are cut off,
   * and when a few old orders hold a mostly empty front in place, they move to `far`.
   */
  private compact(): void {
    const len = this.slots.length;
    if (len < MIN_COMPACT) return;
    if (this.head * 2 > len) {
      this.cut(this.head);
      return;
    }
    const inSlots = this.count - this.far.size;
    if (inSlots * 4 < len - this.head) this.moveFar(this.head + ((len - this.head) >> 1));
  }

  /** Moves the orders of slots[0, n) to `far` and cuts them off. */
  private moveFar(n: number): void {
    for (let i = this.head; i < n; i++) {
      const o = this.slots[i];
      if (o !== undefined) this.far.set(o.orderId, o);
    }
    this.cut(n);
    let h = 0;
    while (h < this.slots.length && this.slots[h] === undefined) h++;
    this.head = h;
  }

  private cut(n: number): void {
    this.slots = this.slots.slice(n);
    this.base += n;
    this.head = Math.max(0, this.head - n);
  }
}
