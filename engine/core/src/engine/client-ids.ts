// The orders held by their clientOrderId. Every order in the order table is here and only those
// (the state adds and drops both together), so this is an index into the table, not a Map of its
// own: replay adds, looks up and drops a clientOrderId for every order, and a Map spent about a
// quarter of the replay's time on it (the string's hash computed in a call into the runtime,
// entries deleted and tables rehashed as orders come and go; ADR 0031). Here the hash is
// computed in JavaScript, entries sit in an open-addressing table (linear probing, deletions
// shift back, no tombstones), and reads look like a ReadonlyMap's: `get`, `has`, `size`,
// iteration in order id order.
import type { Order } from '../domain/order.ts';
import type { OrderTable } from './order-table.ts';

/** Slots of an empty index; above it the table keeps 2 to 8 slots per entry. */
const MIN_SLOTS = 64;

export class ClientIds implements Iterable<[string, number]> {
  private readonly orders: OrderTable;
  /** The hash of the entry in each slot, 0 for an empty slot (a hash is never 0). */
  private hashes = new Int32Array(MIN_SLOTS);
  private slots: Array<Order | undefined> = new Array<Order | undefined>(MIN_SLOTS).fill(undefined);
  private mask = MIN_SLOTS - 1;
  private count = 0;
  /** Per process, so that the slots ids land in cannot be chosen from outside. */
  private readonly seed = (Math.random() * 0x100000000) | 0;
  /** The last id hashed and its hash: check() looks an id up, then apply() adds the same string. */
  private lastId = '';
  private lastHash = 0;

  constructor(orders: OrderTable) {
    this.orders = orders;
    this.lastHash = hashOf(this.seed, '');
  }

  get size(): number {
    return this.count;
  }

  /** The id of the order held with `clientOrderId`. */
  get(clientOrderId: string): number | undefined {
    const i = this.slotOf(clientOrderId);
    return i < 0 ? undefined : this.slots[i]!.orderId;
  }

  has(clientOrderId: string): boolean {
    return this.slotOf(clientOrderId) >= 0;
  }

  /** Indexes `o`, just added to the table; its clientOrderId must not be held by another order. */
  add(o: Order): void {
    if ((this.count + 1) * 2 > this.hashes.length) this.resize(this.hashes.length * 2);
    const id = o.clientOrderId;
    const h = this.hash(id);
    const { hashes, slots, mask } = this;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const x = hashes[i]!;
      if (x === 0) {
        hashes[i] = h;
        slots[i] = o;
        this.count += 1;
        return;
      }
      if (x === h && slots[i]!.clientOrderId === id)
        throw new RangeError(`clientOrderId ${id} is held by order ${slots[i]!.orderId}`);
    }
  }

  /** Drops `o` (the order itself, not another with its clientOrderId); returns whether it was held. */
  remove(o: Order): boolean {
    // Not through the one-id cache: the order dropped is an old one, never the id just looked up.
    const h = hashOf(this.seed, o.clientOrderId);
    const { hashes, slots, mask } = this;
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      const x = hashes[i]!;
      if (x === 0) return false;
      if (x === h && slots[i] === o) break;
    }
    // Backward shift: every entry after the hole that may move into it does, so that a lookup
    // never stops at an empty slot before the entry it looks for.
    for (let j = (i + 1) & mask; hashes[j] !== 0; j = (j + 1) & mask) {
      const home = hashes[j]! & mask;
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      hashes[i] = hashes[j]!;
      slots[i] = slots[j];
      i = j;
    }
    hashes[i] = 0;
    slots[i] = undefined;
    this.count -= 1;
    if (this.count * 8 < this.hashes.length && this.hashes.length > MIN_SLOTS)
      this.resize(this.hashes.length >> 1);
    return true;
  }

  clear(): void {
    this.hashes = new Int32Array(MIN_SLOTS);
    this.slots = new Array<Order | undefined>(MIN_SLOTS).fill(undefined);
    this.mask = MIN_SLOTS - 1;
    this.count = 0;
  }

  /** In order id order (the table's). */
  *keys(): IterableIterator<string> {
    for (const o of this.orders.values()) yield o.clientOrderId;
  }

  *values(): IterableIterator<number> {
    for (const o of this.orders.values()) yield o.orderId;
  }

  *entries(): IterableIterator<[string, number]> {
    for (const o of this.orders.values()) yield [o.clientOrderId, o.orderId];
  }

  [Symbol.iterator](): IterableIterator<[string, number]> {
    return this.entries();
  }

  /** The slot holding `clientOrderId`, or -1. */
  private slotOf(clientOrderId: string): number {
    const h = this.hash(clientOrderId);
    const { hashes, slots, mask } = this;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const x = hashes[i]!;
      if (x === 0) return -1;
      if (x === h && slots[i]!.clientOrderId === clientOrderId) return i;
    }
  }

  private hash(s: string): number {
    if (s === this.lastId) return this.lastHash;
    const h = hashOf(this.seed, s);
    this.lastId = s;
    this.lastHash = h;
    return h;
  }

  private resize(n: number): void {
    const oldHashes = this.hashes;
    const oldSlots = this.slots;
    this.hashes = new Int32Array(n);
    this.slots = new Array<Order | undefined>(n).fill(undefined);
    this.mask = n - 1;
    const { hashes, slots, mask } = this;
    for (let k = 0; k < oldHashes.length; k++) {
      const h = oldHashes[k]!;
      if (h === 0) continue;
      let i = h & mask;
      while (hashes[i] !== 0) i = (i + 1) & mask;
      hashes[i] = h;
      slots[i] = oldSlots[k];
    }
  }
}

/** FNV-1a from `seed` over the UTF-16 code units, then murmur3's finalizer; never 0. */
function hashOf(seed: number, s: string): number {
  let h = seed ^ s.length;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h === 0 ? 1 : h;
}
