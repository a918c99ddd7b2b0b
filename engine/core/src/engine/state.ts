// The engine's order book-keeping as a reducer over WAL records. The live path and replay use
// the same check() + apply(), so a replayed engine is the engine that wrote the log.
import type { Order } from '../domain/order.ts';
import { assertTransition, canFill, isTerminal } from '../domain/order-state.ts';
import { Position, type FeeUnits, type PositionSnapshot } from '../domain/position.ts';
import { RecordType } from '@veloz/wal/format';
import { decodeOrderRecordReused, decodeStrategyHalt, decodeTradingHalt } from '@veloz/wal/payloads';
import type { OrderRecord, StrategyHaltPayload, TradingHaltPayload } from '@veloz/wal/payloads';
import { ClientIds } from './client-ids.ts';
import { OpenOrders } from './open-orders.ts';
import { OrderTable } from './order-table.ts';
import { StateCapture, serializeOrder, type SerializedOrder, type TailEntry } from './state-capture.ts';

export class StateError extends Error {}

export interface StateSnapshot {
  version: 1;
  lastSequence: number;
  nextOrderId: number;
  nextTradeId: number;
  orders: SerializedOrder[];
  history: number[];
  positions: Array<{ strategy: string; symbol: string; position: PositionSnapshot }>;
  strategyOrders: Array<[string, number]>;
  marks: Array<[string, number]>;
  /** Exchange fees paid per asset (FEE_DECIMALS units); absent when none and in older checkpoints. */
  commissions?: Array<[string, string]>;
  /** The last halt or resume recorded; absent when none (and in older checkpoints). */
  trading?: TradingHaltPayload;
  /** The last halt or resume of each strategy that has one; absent when none (and in older checkpoints). */
  strategyHalts?: Array<StrategyHaltPayload & { time: number }>;
  /** Finished API orders kept past `history` for the idempotency window; absent when none. */
  retained?: number[];
  /** clientOrderIds of API orders dropped after the window: [clientOrderId, orderId, createdAt]. */
  forgotten?: Array<[string, number, number]>;
  /**
   * Records appended after `lastSequence` and before the checkpoint record (a checkpoint built
   * off the order path, ADR 0019): applied after the rest. Absent in inline and older checkpoints.
   */
  tail?: TailEntry[];
}

/** An API order dropped after the idempotency window: enough to refuse a late retry clearly. */
export interface ForgottenOrder {
  orderId: number;
  createdAt: number;
}

export interface StateOptions {
  /**
   * Milliseconds from its creation during which an order placed through the API (not by a
   * strategy) stays whole in the state, past `historyLimit`: its clientOrderId is idempotent and
   * the order readable for that long. 0: only `historyLimit` counts.
   */
  idempotencyWindowMs?: number;
  /** Prefix of engine-generated clientOrderIds: those are never retried by a client. */
  generatedIdPrefix?: string;
}

export class EngineState {
  /** Every order held, by id (finished ones up to the history limit and the idempotency window). */
  readonly orders = new OrderTable();
  /** Order ids by clientOrderId, of every order held (an index into `orders`). */
  readonly byClientId = new ClientIds(this.orders);
  /** Non-terminal order ids. */
  readonly open = new OpenOrders(this.orders);
  /** Positions keyed by `${strategy}\u0000${symbol}`; strategy "" is the whole account. */
  readonly positions = new Map<string, Position>();
  /** The same positions by strategy, then symbol (filled on lookup; cleared with `positions`). */
  private readonly positionIndex = new Map<string, Map<string, Position>>();
  readonly strategyOrders = new Map<string, number>();
  /** Remaining quantity of open orders per `${strategy}\u0000${symbol}` (and "" for the account), by side. */
  private readonly openQty = new Map<string, Map<string, { buy: number; sell: number }>>();
  /** Last known market price per symbol (not from the WAL; kept in checkpoints for restarts). */
  readonly marks = new Map<string, number>();
  /** Exchange fees of the whole account per asset, in FEE_DECIMALS units, from the fill records. */
  readonly commissions = new Map<string, bigint>();
  /** The last halt or resume in the log, or null when there was none (the configured default holds). */
  trading: TradingHaltPayload | null = null;
  /** The last guardrail halt or resume of each strategy, with the time it was recorded. */
  readonly strategyHalts = new Map<string, StrategyHaltPayload & { time: number }>();
  nextOrderId = 1;
  nextTradeId = 1;
  lastSequence = 0;
  /**
   * Client-chosen clientOrderIds whose orders left the state after the idempotency window, kept
   * for one more window so that a late retry is refused (409) rather than placed a second time.
   */
  readonly forgotten = new Map<string, ForgottenOrder>();
  private history: number[] = [];
  private historyHead = 0;
  /** Finished API orders past `historyLimit` still inside the window, in the order they finished. */
  private retained: number[] = [];
  private retainedHead = 0;
  private readonly historyLimit: number;
  private readonly windowMs: number;
  private readonly generatedPrefix: string;
  private readonly feeUnits: (symbol: string) => FeeUnits | undefined;
  /** The checkpoint being built off the order path, if any: it sees orders as they were. */
  private capture: StateCapture | null = null;
  /** The order get() found last (in `orders`: dropping it or a restore clears this). */
  private lastOrder: Order | null = null;
  /** The open quantities bumpOpen() changed last, and whose they are (one symbol, mostly). */
  private lastOpenQ: { buy: number; sell: number } | null = null;
  private lastOpenStrategy = '';
  private lastOpenSymbol = '';
  /** The position position() found last, and whose it is. */
  private lastPosition: Position | null = null;
  private lastPositionStrategy = '';
  private lastPositionSymbol = '';

  /**
   * `feeUnits` tells how a fee in some asset bears on a symbol's positions (its instrument);
   * without it fees are only summed per asset.
   */
  constructor(
    historyLimit: number,
    feeUnits: (symbol: string) => FeeUnits | undefined = () => undefined,
    opts: StateOptions = {},
  ) {
    this.historyLimit = historyLimit;
    this.feeUnits = feeUnits;
    this.windowMs = opts.idempotencyWindowMs ?? 0;
    this.generatedPrefix = opts.generatedIdPrefix ?? 'veloz-';
  }

  /** Whether an order created at `createdAt` is still inside the idempotency window at `now`. */
  inWindow(createdAt: number, now: number): boolean {
    return createdAt > now - this.windowMs;
  }

  private get(orderId: number): Order {
    // check() and apply() of one record look up the same order: the second finds it here.
    const last = this.lastOrder;
    if (last !== null && last.orderId === orderId) return last;
    const o = this.orders.get(orderId);
    if (!o) throw new StateError(`order ${orderId} does not exist`);
    this.lastOrder = o;
    return o;
  }

  /** Throws when `rec` cannot be applied; never changes anything. */
  check(rec: OrderRecord): void {
    switch (rec.type) {
      case RecordType.OrderNew: {
        const d = rec.data;
        if (d.orderId !== this.nextOrderId) {
          throw new StateError(`order id ${d.orderId} out of order (expected ${this.nextOrderId})`);
        }
        if (this.byClientId.has(d.clientOrderId))
          throw new StateError(`clientOrderId ${d.clientOrderId} exists`);
        if (d.quantity <= 0) throw new StateError('quantity must be positive');
        return;
      }
      case RecordType.OrderUpdate: {
        const o = this.get(rec.data.orderId);
        if (rec.data.status === 'FILLED' || rec.data.status === 'PARTIALLY_FILLED') {
          throw new StateError('fill statuses come from fill records');
        }
        assertTransition(o.orderId, o.status, rec.data.status);
        return;
      }
      case RecordType.OrderFill: {
        const o = this.get(rec.data.orderId);
        if (!canFill(o.status))
          throw new StateError(`order ${o.orderId} cannot be filled in status ${o.status}`);
        if (rec.data.quantity <= 0 || o.filledQuantity + rec.data.quantity > o.quantity) {
          throw new StateError(`fill of ${rec.data.quantity} overfills order ${o.orderId}`);
        }
        return;
      }
      case RecordType.OrderCancel: {
        const o = this.get(rec.data.orderId);
        assertTransition(o.orderId, o.status, 'CANCELED');
        return;
      }
    }
  }

  /** Applies a checked record; returns the order it touched. */
  apply(rec: OrderRecord, seq: number, timestamp: number): Order {
    this.lastSequence = seq;
    switch (rec.type) {
      case RecordType.OrderNew: {
        const d = rec.data;
        // Field by field rather than a spread of the payload: one object shape for every order.
        const o: Order = {
          orderId: d.orderId,
          clientOrderId: d.clientOrderId,
          symbol: d.symbol,
          side: d.side,
          type: d.type,
          timeInForce: d.timeInForce,
          price: d.price,
          quantity: d.quantity,
          strategy: d.strategy,
          filledQuantity: 0,
          filledNotional: 0n,
          status: 'NEW',
          reason: '',
          exchangeOrderId: '',
          createdAt: timestamp,
          updatedAt: timestamp,
          lastSequence: seq,
        };
        if (d.exchangeClientOrderId !== undefined) o.exchangeClientOrderId = d.exchangeClientOrderId;
        this.orders.add(o);
        this.byClientId.add(o);
        this.open.opened();
        this.addOpen(o, o.quantity);
        this.nextOrderId = o.orderId + 1;
        if (o.strategy) this.strategyOrders.set(o.strategy, (this.strategyOrders.get(o.strategy) ?? 0) + 1);
        return o;
      }
      case RecordType.OrderUpdate: {
        const o = this.get(rec.data.orderId);
        this.capture?.preserve(o);
        const wasOpen = !isTerminal(o.status);
        o.status = rec.data.status;
        if (rec.data.reason) o.reason = rec.data.reason;
        if (rec.data.exchangeOrderId) o.exchangeOrderId = rec.data.exchangeOrderId;
        return this.touched(o, wasOpen, seq, timestamp);
      }
      case RecordType.OrderFill: {
        const o = this.get(rec.data.orderId);
        this.capture?.preserve(o);
        const { quantity, price } = rec.data;
        const wasOpen = !isTerminal(o.status);
        // Fillable (checked) means not terminal, so the order is open.
        this.addOpen(o, -quantity);
        o.filledQuantity += quantity;
        // One BigInt instead of three when the product is exact as a number (the usual case),
        // and no sum for the first fill of an order.
        const notional = quantity * price;
        const add = Number.isSafeInteger(notional) ? BigInt(notional) : BigInt(quantity) * BigInt(price);
        o.filledNotional = o.filledQuantity === quantity ? add : o.filledNotional + add;
        o.status = o.filledQuantity === o.quantity ? 'FILLED' : 'PARTIALLY_FILLED';
        this.position('', o.symbol).applyFill(o.side, quantity, price);
        if (o.strategy) this.position(o.strategy, o.symbol).applyFill(o.side, quantity, price);
        const fee = rec.data.commission;
        if (fee) {
          this.commissions.set(fee.asset, (this.commissions.get(fee.asset) ?? 0n) + BigInt(fee.amount));
          const units = this.feeUnits(o.symbol);
          if (units) {
            this.position('', o.symbol).applyFee(fee, price, units);
            if (o.strategy) this.position(o.strategy, o.symbol).applyFee(fee, price, units);
          }
        }
        if (rec.data.tradeId >= this.nextTradeId) this.nextTradeId = rec.data.tradeId + 1;
        return this.touched(o, wasOpen, seq, timestamp);
      }
      case RecordType.OrderCancel: {
        const o = this.get(rec.data.orderId);
        this.capture?.preserve(o);
        const wasOpen = !isTerminal(o.status);
        o.status = 'CANCELED';
        o.reason = rec.data.reason;
        return this.touched(o, wasOpen, seq, timestamp);
      }
    }
  }

  /** Applies a TradingHalt record. */
  applyTrading(p: TradingHaltPayload, seq: number): void {
    this.lastSequence = seq;
    this.trading = { halted: p.halted, reason: p.reason };
  }

  /** Applies a StrategyHalt record. */
  applyStrategyHalt(p: StrategyHaltPayload, seq: number, timestamp: number): void {
    this.lastSequence = seq;
    this.strategyHalts.set(p.strategy, { ...p, time: timestamp });
  }

  /** `wasOpen`: the order's status before the record was not terminal. */
  private touched(o: Order, wasOpen: boolean, seq: number, timestamp: number): Order {
    o.updatedAt = timestamp;
    o.lastSequence = seq;
    if (wasOpen && isTerminal(o.status)) {
      this.open.closed();
      this.addOpen(o, o.filledQuantity - o.quantity);
      this.history.push(o.orderId);
      this.evict(timestamp);
    }
    return o;
  }

  /** An API order inside the window stays whole whatever the history limit. */
  private keptForWindow(o: Order, now: number): boolean {
    return this.windowMs > 0 && o.strategy === '' && this.inWindow(o.createdAt, now);
  }

  // `now` is the time of the record being applied, so a replay evicts exactly what the live
  // engine did.
  private evict(now: number): void {
    while (this.history.length - this.historyHead > this.historyLimit) {
      const id = this.history[this.historyHead++]!;
      const o = this.orders.get(id);
      if (!o) continue;
      if (this.keptForWindow(o, now)) this.retained.push(id);
      else this.drop(o, now);
    }
    while (this.retainedHead < this.retained.length) {
      const o = this.orders.get(this.retained[this.retainedHead]!);
      if (o && this.keptForWindow(o, now)) break;
      this.retainedHead++;
      if (o) this.drop(o, now);
    }
    // (An iterator of an empty map is still an allocation, for every eviction.)
    if (this.forgotten.size > 0) {
      for (const [cid, f] of this.forgotten) {
        // Insertion order is the order of dropping, close to creation order: stop at the first kept.
        if (f.createdAt > now - 2 * this.windowMs) break;
        this.forgotten.delete(cid);
      }
    }
    if (this.historyHead > 1024 && this.historyHead * 2 > this.history.length) {
      this.history = this.history.slice(this.historyHead);
      this.historyHead = 0;
    }
    if (this.retainedHead > 1024 && this.retainedHead * 2 > this.retained.length) {
      this.retained = this.retained.slice(this.retainedHead);
      this.retainedHead = 0;
    }
  }

  private drop(o: Order, now: number): void {
    this.capture?.preserve(o);
    if (this.lastOrder === o) this.lastOrder = null;
    this.orders.delete(o.orderId);
    this.byClientId.remove(o);
    if (
      this.windowMs > 0 &&
      o.strategy === '' &&
      !o.clientOrderId.startsWith(this.generatedPrefix) &&
      o.createdAt > now - 2 * this.windowMs
    )
      this.forgotten.set(o.clientOrderId, { orderId: o.orderId, createdAt: o.createdAt });
  }

  private addOpen(o: Order, delta: number): void {
    this.bumpOpen('', o, delta);
    if (o.strategy) this.bumpOpen(o.strategy, o, delta);
  }

  // Nested maps rather than a composite string key, and the last entry at hand: this runs for
  // every order record on replay.
  private bumpOpen(strategy: string, o: Order, delta: number): void {
    let q = this.lastOpenQ;
    if (q === null || this.lastOpenStrategy !== strategy || this.lastOpenSymbol !== o.symbol) {
      let bySymbol = this.openQty.get(strategy);
      if (!bySymbol)
        this.openQty.set(strategy, (bySymbol = new Map<string, { buy: number; sell: number }>()));
      q = bySymbol.get(o.symbol) ?? null;
      if (q === null) bySymbol.set(o.symbol, (q = { buy: 0, sell: 0 }));
      this.lastOpenQ = q;
      this.lastOpenStrategy = strategy;
      this.lastOpenSymbol = o.symbol;
    }
    if (o.side === 'BUY') q.buy += delta;
    else q.sell += delta;
  }

  /** Remaining open quantity on each side for a symbol (strategy "" = the whole account). */
  openQuantity(strategy: string, symbol: string): { buy: number; sell: number } {
    return this.openQty.get(strategy)?.get(symbol) ?? { buy: 0, sell: 0 };
  }

  position(strategy: string, symbol: string): Position {
    const last = this.lastPosition;
    if (last !== null && this.lastPositionStrategy === strategy && this.lastPositionSymbol === symbol)
      return last;
    // Every fill looks its positions up: through nested maps, not a key string built each time.
    let bySymbol = this.positionIndex.get(strategy);
    if (!bySymbol) this.positionIndex.set(strategy, (bySymbol = new Map<string, Position>()));
    let p = bySymbol.get(symbol);
    if (!p) {
      const key = `${strategy}\u0000${symbol}`;
      p = this.positions.get(key);
      if (!p) {
        p = new Position();
        this.positions.set(key, p);
      }
      bySymbol.set(symbol, p);
    }
    this.lastPosition = p;
    this.lastPositionStrategy = strategy;
    this.lastPositionSymbol = symbol;
    return p;
  }

  findPosition(strategy: string, symbol: string): Position | undefined {
    return this.positions.get(`${strategy}\u0000${symbol}`);
  }

  /** Everything a checkpoint holds but the orders, copied: later changes do not reach it. */
  private checkpointFields(): Omit<StateSnapshot, 'orders'> {
    const s: Omit<StateSnapshot, 'orders'> = {
      version: 1,
      lastSequence: this.lastSequence,
      nextOrderId: this.nextOrderId,
      nextTradeId: this.nextTradeId,
      history: this.history.slice(this.historyHead),
      positions: [...this.positions.entries()].map(([key, p]) => {
        const [strategy, symbol] = key.split('\u0000') as [string, string];
        return { strategy, symbol, position: p.snapshot() };
      }),
      strategyOrders: [...this.strategyOrders.entries()],
      marks: [...this.marks.entries()],
    };
    if (this.commissions.size > 0)
      s.commissions = [...this.commissions].map(([asset, v]) => [asset, v.toString()]);
    if (this.trading) s.trading = { ...this.trading };
    if (this.strategyHalts.size > 0)
      s.strategyHalts = [...this.strategyHalts.values()].map((h) => ({ ...h }));
    if (this.retained.length > this.retainedHead) s.retained = this.retained.slice(this.retainedHead);
    if (this.forgotten.size > 0)
      s.forgotten = [...this.forgotten].map(([cid, f]) => [cid, f.orderId, f.createdAt]);
    return s;
  }

  /** The whole state as a checkpoint payload, serialized at once (on the caller's turn). */
  snapshot(): Buffer {
    const s: StateSnapshot = {
      ...this.checkpointFields(),
      orders: [...this.orders.values()].map(serializeOrder),
    };
    return Buffer.from(JSON.stringify(s));
  }

  /**
   * Captures the state as of now for a checkpoint serialized in slices (StateCapture.step()):
   * from here on, every order is preserved before it changes. A newer capture replaces this one.
   */
  beginCapture(): StateCapture {
    this.capture?.release();
    const cap = new StateCapture(
      this.lastSequence,
      this.checkpointFields(),
      [...this.orders.keys()],
      this.nextOrderId,
      (id) => this.orders.get(id),
    );
    this.capture = cap;
    return cap;
  }

  /** Forgets `cap` (finished or abandoned): changes are no longer preserved for it. */
  endCapture(cap: StateCapture): void {
    cap.release();
    if (this.capture === cap) this.capture = null;
  }

  /** Replaces everything with a checkpoint's contents. */
  restore(payload: Buffer): void {
    const s = JSON.parse(payload.toString('utf8')) as StateSnapshot;
    if (s.version !== 1) throw new StateError(`unsupported checkpoint version ${String(s.version)}`);
    if (this.capture) this.endCapture(this.capture);
    this.orders.clear();
    this.lastOrder = null;
    this.lastOpenQ = null;
    this.byClientId.clear();
    this.open.clear();
    this.positions.clear();
    this.positionIndex.clear();
    this.lastPosition = null;
    this.strategyOrders.clear();
    this.openQty.clear();
    this.marks.clear();
    this.commissions.clear();
    this.forgotten.clear();
    this.strategyHalts.clear();
    for (const h of s.strategyHalts ?? []) this.strategyHalts.set(h.strategy, { ...h });
    for (const raw of s.orders) {
      const o: Order = { ...raw, filledNotional: BigInt(raw.filledNotional) };
      this.orders.add(o);
      this.byClientId.add(o);
      if (!isTerminal(o.status)) {
        this.open.opened();
        this.addOpen(o, o.quantity - o.filledQuantity);
      }
    }
    this.history = [...s.history];
    this.historyHead = 0;
    this.trading = s.trading ? { halted: s.trading.halted, reason: s.trading.reason } : null;
    this.retained = [...(s.retained ?? [])];
    this.retainedHead = 0;
    for (const [cid, orderId, createdAt] of s.forgotten ?? [])
      this.forgotten.set(cid, { orderId, createdAt });
    for (const p of s.positions)
      this.positions.set(`${p.strategy}\u0000${p.symbol}`, Position.restore(p.position));
    for (const [k, v] of s.strategyOrders) this.strategyOrders.set(k, v);
    for (const [k, v] of s.marks) this.marks.set(k, v);
    for (const [k, v] of s.commissions ?? []) this.commissions.set(k, BigInt(v));
    this.nextOrderId = s.nextOrderId;
    this.nextTradeId = s.nextTradeId;
    this.lastSequence = s.lastSequence;
    let prev: number | null = null;
    for (const [seq, timestamp, type, payload] of s.tail ?? []) {
      // The capture's sequence may be past lastSequence (an inline checkpoint record is not applied).
      if (prev === null ? seq <= this.lastSequence : seq !== prev + 1)
        throw new StateError(`checkpoint tail: record ${seq} follows ${prev ?? this.lastSequence}`);
      prev = seq;
      if (!this.replay(type, Buffer.from(payload, 'base64'), seq, timestamp))
        throw new StateError(`checkpoint tail: record ${seq} has type ${type}, not an order or halt record`);
    }
  }

  /**
   * Applies one record of the log as replay meets it (recovery, a checkpoint's tail): an order
   * record or a halt. One place for both, so a new record type is replayed the same everywhere.
   * Returns false, applying nothing, for any other type. The payload is `payload[start, end)`
   * (recovery hands out the bytes a record lies in, not a view of each payload).
   */
  replay(
    type: number,
    payload: Buffer,
    seq: number,
    timestamp: number,
    start = 0,
    end = payload.length,
  ): boolean {
    if (type === RecordType.TradingHalt)
      this.applyTrading(decodeTradingHalt(payload.subarray(start, end)), seq);
    else if (type === RecordType.StrategyHalt)
      this.applyStrategyHalt(decodeStrategyHalt(payload.subarray(start, end)), seq, timestamp);
    else if (type >= RecordType.OrderNew && type <= RecordType.OrderCancel) {
      // The record is decoded into an object reused for the next one: apply() keeps none of it.
      const rec = decodeOrderRecordReused(type as OrderRecord['type'], payload, start, end);
      this.check(rec);
      this.apply(rec, seq, timestamp);
    } else return false;
    return true;
  }
}
