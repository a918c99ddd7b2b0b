// A checkpoint of the engine state built off the order path (ADR 0019). The capture notes the
// state at one sequence number in O(small) work, then serializes the orders in slices between
// event-loop turns. Orders changed meanwhile are preserved copy-on-write by the state (preserve()
// before every change), so the slices see each order as it was at the capture. Records appended
// after the capture and before the checkpoint record travel in the payload as its `tail`: a
// restore applies them, so the checkpoint describes every record before its own, as before.
import type { Order } from '../domain/order.ts';
import type { RecordType } from '@veloz/wal/format';

/** An order as a checkpoint holds it (a bigint does not go through JSON). */
export type SerializedOrder = Omit<Order, 'filledNotional'> & { filledNotional: string };

export function serializeOrder(o: Order): SerializedOrder {
  return { ...o, filledNotional: o.filledNotional.toString() };
}

/** One record appended after the capture: [sequence, timestamp, type, payload in base64]. */
export type TailEntry = [number, number, number, string];

/** A record as the WAL writer hands the tail over. */
export interface TailRecord {
  seq: number;
  timestamp: number;
  type: RecordType;
  payload: Uint8Array;
}

export function encodeTail(records: readonly TailRecord[]): TailEntry[] {
  return records.map((r) => [
    r.seq,
    r.timestamp,
    r.type,
    Buffer.from(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength).toString('base64'),
  ]);
}

/** Orders per slice: small enough that one slice is well under a millisecond of serializing. */
export const CAPTURE_SLICE_ORDERS = 512;

export class StateCapture {
  readonly sequence: number;
  /** Every field of the checkpoint but the orders, as they were at the capture. */
  private readonly rest: object;
  private readonly ids: number[];
  /** Orders changed or dropped since the capture, as they were at it. */
  private readonly saved = new Map<number, SerializedOrder>();
  /** Orders with ids from here on were created after the capture. */
  private readonly firstNewId: number;
  private readonly lookup: (id: number) => Order | undefined;
  private readonly parts: Buffer[] = [];
  private done = 0;
  private released = false;

  constructor(
    sequence: number,
    rest: object,
    ids: number[],
    firstNewId: number,
    lookup: (id: number) => Order | undefined,
  ) {
    this.sequence = sequence;
    this.rest = rest;
    this.ids = ids;
    this.firstNewId = firstNewId;
    this.lookup = lookup;
  }

  get active(): boolean {
    return !this.released;
  }

  /** Called by the state before it changes or drops `o`. */
  preserve(o: Order): void {
    if (this.released || o.orderId >= this.firstNewId || this.saved.has(o.orderId)) return;
    this.saved.set(o.orderId, serializeOrder(o));
  }

  /** Serializes up to `n` more orders; returns whether every order is serialized. */
  step(n: number = CAPTURE_SLICE_ORDERS): boolean {
    if (this.released) throw new Error('checkpoint capture was released');
    const end = Math.min(this.ids.length, this.done + n);
    if (end > this.done) {
      const slice: SerializedOrder[] = [];
      for (let i = this.done; i < end; i++) {
        const id = this.ids[i]!;
        const saved = this.saved.get(id);
        if (saved) {
          slice.push(saved);
          continue;
        }
        const o = this.lookup(id);
        // Every change and drop of a captured order goes through preserve() first.
        if (!o) throw new Error(`order ${id} left the state without being preserved for the checkpoint`);
        slice.push(serializeOrder(o));
      }
      const json = JSON.stringify(slice);
      this.parts.push(Buffer.from((this.done === 0 ? '' : ',') + json.slice(1, -1)));
      this.done = end;
    }
    return this.done >= this.ids.length;
  }

  /** The checkpoint payload: the state at the capture, then `tail` (records after it). */
  finish(tail: readonly TailRecord[]): Buffer {
    while (!this.step(Number.MAX_SAFE_INTEGER));
    const head = JSON.stringify(tail.length > 0 ? { ...this.rest, tail: encodeTail(tail) } : this.rest);
    const out = Buffer.concat([
      Buffer.from(`${head.slice(0, -1)},"orders":[`),
      ...this.parts,
      Buffer.from(']}'),
    ]);
    this.release();
    return out;
  }

  /** Stops preserving changes (the state forgets this capture). */
  release(): void {
    this.released = true;
    this.saved.clear();
    this.parts.length = 0;
  }
}
