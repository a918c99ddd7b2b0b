// Execution on Binance Spot. The order path stays the engine's: OrderNew and an OrderUpdate
// SUBMITTED are durable in the WAL before the request leaves, the exchange's client order id is
// derived from what those records hold, and every answer (or its absence) becomes WAL records.
// A 5XX or timeout makes the order UNKNOWN until a query says what happened. Work on one order
// runs strictly in sequence, so an answer, a cancel and a poll never race each other.
import { formatPrice, formatQty, type Instrument } from '../domain/instrument.ts';
import type { Order } from '../domain/order.ts';
import { canTransition, isTerminal, type OrderStatus } from '../domain/order-state.ts';
import { RecordType } from '@veloz/wal/format';
import { BinanceApiError, BinanceUnknownError, type BinanceRest } from './binance-rest.ts';
import { ERR, type BinanceOrder } from './binance-types.ts';
import { exchangeUnits } from './filters.ts';
import type { ExchangeMetrics } from './metrics.ts';
import type { ExecutionVenue, VenueHost } from './venue.ts';

export type Phase = 'live' | 'start' | 'unknown' | 'poll';

/** The exchange's client order id: unique per order and per WAL (its creation time is part of it). */
export function exchangeClientOrderId(o: Pick<Order, 'orderId' | 'createdAt'>): string {
  return `veloz-${o.orderId}-${o.createdAt.toString(36)}`;
}

interface TradeLike {
  id: number;
  price: string;
  qty: string;
}

export interface BinanceVenueOptions {
  rest: BinanceRest;
  host: VenueHost;
  metrics: ExchangeMetrics;
  pollIntervalMs: number;
  maxBackoffMs: number;
}

const NOT_FOUND_LIMIT = 3;

export class BinanceVenue implements ExecutionVenue {
  private readonly rest: BinanceRest;
  private readonly host: VenueHost;
  private readonly m: ExchangeMetrics;
  private readonly o: BinanceVenueOptions;
  private readonly chains = new Map<number, Promise<void>>();
  private readonly tasks = new Set<Promise<void>>();
  private readonly notFound = new Map<number, number>();
  private poller: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private closed = false;
  private readonly abort = new AbortController();

  constructor(opts: BinanceVenueOptions) {
    this.o = opts;
    this.rest = opts.rest;
    this.host = opts.host;
    this.m = opts.metrics;
  }

  private inst(o: Order): Instrument {
    const i = this.host.instruments.get(o.symbol);
    if (!i) throw new Error(`no instrument for ${o.symbol}`);
    return i;
  }

  private update(o: Order, status: OrderStatus, reason = '', exchangeOrderId = ''): void {
    this.host.commit({
      type: RecordType.OrderUpdate,
      data: { orderId: o.orderId, status, reason, exchangeOrderId },
    });
  }

  private differ(phase: Phase, kind: string): void {
    if (phase !== 'live') this.m.reconcileDifferences.inc({ phase, kind });
  }

  /** Runs `fn` after everything already queued for the order. */
  private enqueue(orderId: number, fn: () => Promise<void>): void {
    const prev = this.chains.get(orderId) ?? Promise.resolve();
    const next: Promise<void> = prev.then(fn).catch((err: unknown) => {
      this.host.log.error({ err, orderId }, 'exchange work on an order failed; the poller will retry');
    });
    this.chains.set(orderId, next);
    const tracked: Promise<void> = next.then(() => {
      this.tasks.delete(tracked);
      if (this.chains.get(orderId) === next) this.chains.delete(orderId);
    });
    this.tasks.add(tracked);
  }

  private busy(orderId: number): boolean {
    return this.chains.has(orderId);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.abort.signal.aborted) return resolve();
      const t = setTimeout(resolve, ms);
      this.abort.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  submit(order: Order): void {
    this.update(order, 'SUBMITTED');
    const seq = order.lastSequence;
    this.enqueue(order.orderId, () => this.send(order, seq));
  }

  cancel(order: Order, reason: string): Order {
    if (order.status === 'PENDING_CANCEL') return order;
    if (order.status === 'NEW')
      return this.host.commit({ type: RecordType.OrderCancel, data: { orderId: order.orderId, reason } });
    this.update(order, 'PENDING_CANCEL', reason);
    const seq = order.lastSequence;
    this.enqueue(order.orderId, () => this.sendCancel(order, seq));
    return order;
  }

  readiness(): string[] {
    const wait = this.rest.backoffRemainingMs();
    return wait > this.o.maxBackoffMs
      ? [`Binance has blocked requests for another ${Math.ceil(wait / 1000)} s (rate limit ban)`]
      : [];
  }

  private async send(o: Order, seq: number): Promise<void> {
    await this.host.waitDurable(seq);
    if (isTerminal(o.status)) return;
    const inst = this.inst(o);
    const params =
      o.type === 'LIMIT'
        ? { timeInForce: o.timeInForce, price: formatPrice(inst, o.price) }
        : ({} as Record<string, string>);
    try {
      const res = await this.rest.signed<BinanceOrder>('POST', '/api/v3/order', {
        symbol: o.symbol,
        side: o.side,
        type: o.type,
        quantity: formatQty(inst, o.quantity),
        ...params,
        newClientOrderId: exchangeClientOrderId(o),
        newOrderRespType: 'FULL',
      });
      await this.apply(
        o,
        res,
        'live',
        res.fills?.map((f) => ({ id: f.tradeId, price: f.price, qty: f.qty })),
      );
    } catch (err) {
      if (err instanceof BinanceApiError) {
        // Refused before execution (filters, balance, a ban longer than we wait): nothing to query.
        this.update(o, 'REJECTED', err.message.slice(0, 200));
        return;
      }
      if (err instanceof BinanceUnknownError) {
        this.update(o, 'UNKNOWN', err.message.slice(0, 200));
        this.host.log.warn(
          { orderId: o.orderId, err: err.message },
          'order outcome unknown; querying the exchange',
        );
        await this.resolve(o, 'unknown');
        return;
      }
      throw err;
    }
  }

  private async sendCancel(o: Order, seq: number): Promise<void> {
    await this.host.waitDurable(seq);
    if (isTerminal(o.status)) return;
    try {
      const res = await this.rest.signed<BinanceOrder>('DELETE', '/api/v3/order', {
        symbol: o.symbol,
        origClientOrderId: exchangeClientOrderId(o),
      });
      await this.apply(o, res, 'live');
    } catch (err) {
      if (err instanceof BinanceApiError || err instanceof BinanceUnknownError) {
        // -2011 (already finished or not arrived yet), a refusal or no answer: ask what is true.
        this.host.log.warn(
          { orderId: o.orderId, err: err.message },
          'cancel not confirmed; querying the exchange',
        );
        await this.resolve(o, 'unknown');
        return;
      }
      throw err;
    }
  }

  private query(o: Order): Promise<BinanceOrder> {
    return this.rest.signed<BinanceOrder>('GET', '/api/v3/order', {
      symbol: o.symbol,
      origClientOrderId: exchangeClientOrderId(o),
    });
  }

  /**
   * Queries until the exchange gives an answer. "No such order" is believed only after it was
   * said several times, since a request cut off by a timeout may still be on its way.
   */
  private async resolve(o: Order, phase: Phase): Promise<void> {
    for (let attempt = 0; !this.closed && !isTerminal(o.status); attempt++) {
      await this.sleep(Math.min(100 * 2 ** attempt, 5000));
      if (this.closed) return;
      const r = await this.queryAndApply(o, phase);
      if (r !== 'retry') return;
    }
  }

  /** One query: applies the answer, or counts a "no such order". */
  private async queryAndApply(o: Order, phase: Phase): Promise<'done' | 'missing' | 'retry'> {
    try {
      const ex = await this.query(o);
      this.notFound.delete(o.orderId);
      await this.apply(o, ex, phase);
      if (o.status === 'PENDING_CANCEL' && (ex.status === 'NEW' || ex.status === 'PARTIALLY_FILLED')) {
        // The cancel never reached the exchange: send it again.
        await this.sendCancelOnce(o);
      }
      return 'done';
    } catch (err) {
      if (err instanceof BinanceApiError && err.code === ERR.NO_SUCH_ORDER) {
        const n = (this.notFound.get(o.orderId) ?? 0) + 1;
        this.notFound.set(o.orderId, n);
        if (n < NOT_FOUND_LIMIT && phase !== 'start') return 'retry';
        this.notFound.delete(o.orderId);
        this.missing(o, phase);
        return 'missing';
      }
      if (err instanceof BinanceApiError || err instanceof BinanceUnknownError) {
        this.host.log.warn({ orderId: o.orderId, err: err.message }, 'order query failed; will retry');
        return 'retry';
      }
      throw err;
    }
  }

  private async sendCancelOnce(o: Order): Promise<void> {
    try {
      const res = await this.rest.signed<BinanceOrder>('DELETE', '/api/v3/order', {
        symbol: o.symbol,
        origClientOrderId: exchangeClientOrderId(o),
      });
      await this.apply(o, res, 'live');
    } catch (err) {
      if (!(err instanceof BinanceApiError || err instanceof BinanceUnknownError)) throw err;
      this.host.log.warn(
        { orderId: o.orderId, err: err.message },
        'cancel retry failed; the poller will try again',
      );
    }
  }

  /** The exchange has never heard of the order. */
  private missing(o: Order, phase: Phase): void {
    if (canTransition(o.status, 'REJECTED') && o.filledQuantity === 0 && !o.exchangeOrderId) {
      this.update(o, 'REJECTED', 'not found on the exchange: the request never arrived');
      this.differ(phase, 'missing');
      return;
    }
    // An order the exchange once acknowledged cannot vanish; say so loudly and keep asking.
    this.host.log.error(
      { orderId: o.orderId, status: o.status },
      'an acknowledged order is missing on the exchange',
    );
    if (o.status !== 'UNKNOWN') {
      this.update(o, 'UNKNOWN', 'acknowledged order not found on the exchange');
      this.differ(phase, 'missing');
    }
  }

  /** Writes what the exchange says about an order that the WAL does not have yet. */
  private async apply(o: Order, ex: BinanceOrder, phase: Phase, trades?: TradeLike[]): Promise<void> {
    if (isTerminal(o.status)) return;
    const inst = this.inst(o);
    const executed = exchangeUnits(ex.executedQty, inst.qtyDecimals);
    const exId = String(ex.orderId);
    if (ex.status === 'REJECTED' && executed === 0) {
      if (canTransition(o.status, 'REJECTED')) {
        this.update(o, 'REJECTED', 'rejected by the exchange', exId);
        this.differ(phase, 'status');
      }
      return;
    }
    if (
      (o.status === 'SUBMITTED' || o.status === 'UNKNOWN' || o.status === 'NEW') &&
      o.filledQuantity === 0
    ) {
      this.update(o, 'ACCEPTED', '', exId);
      this.differ(phase, 'status');
    }
    if (executed > o.filledQuantity) {
      const list =
        trades && trades.reduce((s, t) => s + exchangeUnits(t.qty, inst.qtyDecimals), 0) >= executed
          ? trades
          : await this.rest.signed<Array<{ id: number; price: string; qty: string }>>(
              'GET',
              '/api/v3/myTrades',
              {
                symbol: o.symbol,
                orderId: ex.orderId,
              },
            );
      this.fills(o, inst, list, executed, phase);
    }
    if (isTerminal(o.status)) return;
    switch (ex.status) {
      case 'CANCELED':
        if (o.filledQuantity === executed) {
          this.host.commit({
            type: RecordType.OrderCancel,
            data: {
              orderId: o.orderId,
              reason: o.status === 'PENDING_CANCEL' ? o.reason || 'canceled' : 'canceled on the exchange',
            },
          });
          this.differ(phase, 'status');
        }
        break;
      case 'EXPIRED':
      case 'EXPIRED_IN_MATCH':
        if (o.filledQuantity === executed && canTransition(o.status, 'EXPIRED')) {
          this.update(o, 'EXPIRED', 'expired on the exchange');
          this.differ(phase, 'status');
        }
        break;
      default:
        break;
    }
  }

  /** Records the trades beyond what the WAL already has (trades arrive in id order). */
  private fills(o: Order, inst: Instrument, trades: TradeLike[], executed: number, phase: Phase): void {
    const sorted = [...trades].sort((a, b) => a.id - b.id);
    let seen = 0;
    for (const t of sorted) {
      if (o.filledQuantity >= executed) break;
      const qty = exchangeUnits(t.qty, inst.qtyDecimals);
      const before = seen;
      seen += qty;
      if (seen <= o.filledQuantity) continue;
      const take = Math.min(seen - Math.max(before, o.filledQuantity), executed - o.filledQuantity);
      if (take <= 0) continue;
      const price = exchangeUnits(t.price, inst.priceDecimals);
      this.host.commit(
        { type: RecordType.OrderFill, data: { orderId: o.orderId, quantity: take, price, tradeId: t.id } },
        { qty: take, price },
      );
      this.differ(phase, 'fill');
    }
    if (o.filledQuantity < executed)
      this.host.log.warn(
        { orderId: o.orderId, executed, recorded: o.filledQuantity },
        'the exchange reports more executed quantity than its trades show; will retry',
      );
  }

  /** On start: every non-terminal order in the WAL is checked against the exchange. */
  async recover(): Promise<void> {
    const s = this.host.state;
    const open = [...s.open].sort((a, b) => a - b).map((id) => s.orders.get(id)!);
    for (const o of open) {
      if (o.status === 'NEW') {
        // Only SUBMITTED orders may have left: this one never did.
        this.update(o, 'REJECTED', 'not sent: the engine stopped before submitting it');
        this.differ('start', 'unsent');
        continue;
      }
      for (let attempt = 0; ; attempt++) {
        const r = await this.queryAndApply(o, 'start');
        if (r !== 'retry') break;
        if (attempt >= 4) throw new Error(`cannot reconcile order ${o.orderId} with Binance`);
        await this.sleep(500 * 2 ** attempt);
      }
    }
    const known = new Set([...s.orders.values()].map((o) => exchangeClientOrderId(o)));
    for (const symbol of this.host.instruments.keys()) {
      const exOpen = await this.rest.signed<BinanceOrder[]>('GET', '/api/v3/openOrders', { symbol });
      for (const ex of exOpen) {
        if (!ex.clientOrderId.startsWith('veloz-') || known.has(ex.clientOrderId)) continue;
        this.differ('start', 'unknown_on_exchange');
        this.host.log.warn(
          { symbol, clientOrderId: ex.clientOrderId, exchangeOrderId: ex.orderId },
          'an open order on the exchange looks like ours but is not in the WAL; leaving it alone',
        );
      }
    }
    await this.host.waitDurable(s.lastSequence);
    this.poller = setInterval(() => this.schedulePoll(), this.o.pollIntervalMs);
    this.poller.unref();
  }

  private schedulePoll(): void {
    if (this.polling || this.closed) return;
    const p: Promise<void> = this.poll()
      .catch((err: unknown) => this.host.log.warn({ err }, 'order status poll failed'))
      .finally(() => {
        this.polling = undefined;
        this.tasks.delete(p);
      });
    this.polling = p;
    this.tasks.add(p);
  }

  /** Finds fills and state changes of resting orders: open orders per symbol, then each one that left. */
  private async poll(): Promise<void> {
    const s = this.host.state;
    const bySymbol = new Map<string, Order[]>();
    let unknown = 0;
    for (const id of s.open) {
      const o = s.orders.get(id)!;
      if (o.status === 'UNKNOWN') unknown++;
      if (this.busy(id) || o.status === 'NEW') continue;
      const list = bySymbol.get(o.symbol) ?? [];
      list.push(o);
      bySymbol.set(o.symbol, list);
    }
    this.m.unknownOrders.set(unknown);
    for (const [symbol, orders] of bySymbol) {
      if (this.closed) return;
      const exOpen = await this.rest.signed<BinanceOrder[]>('GET', '/api/v3/openOrders', { symbol });
      const byCid = new Map(exOpen.map((x) => [x.clientOrderId, x]));
      for (const o of orders) {
        if (this.busy(o.orderId) || isTerminal(o.status)) continue;
        const ex = byCid.get(exchangeClientOrderId(o));
        const inst = this.inst(o);
        if (ex) {
          const changed =
            exchangeUnits(ex.executedQty, inst.qtyDecimals) !== o.filledQuantity ||
            o.status === 'UNKNOWN' ||
            o.status === 'SUBMITTED' ||
            o.status === 'PENDING_CANCEL';
          if (changed)
            this.enqueue(o.orderId, async () => {
              await this.apply(o, ex, 'poll');
              if (o.status === 'PENDING_CANCEL') await this.sendCancelOnce(o);
            });
        } else {
          this.enqueue(o.orderId, async () => {
            await this.queryAndApply(o, 'poll');
          });
        }
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    if (this.poller) clearInterval(this.poller);
    while (this.tasks.size > 0) await Promise.all([...this.tasks]);
  }
}
