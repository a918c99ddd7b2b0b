// Execution on Binance Spot. The order path stays the engine's: OrderNew and an OrderUpdate
// SUBMITTED are durable in the WAL before the request leaves, the exchange's client order id is
// derived from what those records hold, and every answer (or its absence) becomes WAL records.
//
// Outcomes (DESIGN §8): an order's outcome is definite only when the exchange said so. An error
// answer is classified by binance-errors.ts; anything that may have been executed leaves the
// order UNKNOWN, and only the exchange's own answer resolves it. "No such order" (-2013) means
// "never arrived" only once the order's acceptance horizon has passed (acceptance-horizon.ts).
// Work on one order runs strictly in sequence, so an answer, a cancel and a poll never race.
import { exchangeClientOrderId, isOwnClientOrderId } from '../domain/client-order-id.ts';
import { formatPrice, formatQty, type Instrument } from '../domain/instrument.ts';
import type { Order } from '../domain/order.ts';
import { canTransition, isTerminal, type OrderStatus } from '../domain/order-state.ts';
import { RecordType } from '@veloz/wal/format';
import { COMMISSION_DECIMALS, type Commission } from '@veloz/wal/payloads';
import { acceptanceHorizon, recoveredHorizon, type HorizonOptions } from './acceptance-horizon.ts';
import { parse } from './binance-answers.ts';
import { ERR } from './binance-errors.ts';
import { BinanceApiError, outcomeOf, type BinanceRest } from './binance-rest.ts';
import type { BinanceOrder } from './binance-types.ts';
import { exchangeUnits } from './filters.ts';
import type { ExchangeMetrics } from './metrics.ts';
import type { ExecutionVenue, VenueHost } from './venue.ts';

export type Phase = 'live' | 'start' | 'unknown' | 'poll' | 'stream' | 'reconcile';

export { exchangeClientOrderId, isOwnClientOrderId, ownOrders } from '../domain/client-order-id.ts';

/** One trade of an order as the exchange reports it (FULL answer fills, myTrades, the stream). */
export interface TradeReport {
  id: number;
  price: string;
  qty: string;
  commission?: string | undefined;
  commissionAsset?: string | undefined;
}

export interface BinanceVenueOptions {
  rest: BinanceRest;
  host: VenueHost;
  metrics: ExchangeMetrics;
  pollIntervalMs: number;
  maxBackoffMs: number;
  /** Added to timestamp + recvWindow before "no such order" may mean the request never arrived. */
  acceptanceMarginMs: number;
  /** Local time this process started: no request of a previous process was signed after it. */
  startedAt?: number;
  /** True while the user data stream delivers order changes: polling then only backs it up. */
  streamLive?: () => boolean;
  /** This desk's and pair's client order ids on the exchange (default: `veloz-<n>-…`, ownOrders). */
  ours?: (clientOrderId: string) => boolean;
}

/** While the user data stream is live, open orders are still polled this often, in case an event was lost. */
export const STREAM_BACKUP_POLL_MS = 60_000;

/** myTrades answers at most 1000 trades; an order with more is read page by page. */
export const TRADES_PAGE = 1000;

type QueryResult = 'done' | 'missing' | 'absent' | 'retry';

export class BinanceVenue implements ExecutionVenue {
  private readonly rest: BinanceRest;
  private readonly host: VenueHost;
  private readonly m: ExchangeMetrics;
  private readonly o: BinanceVenueOptions;
  private readonly chains = new Map<number, Promise<void>>();
  private readonly tasks = new Set<Promise<void>>();
  /** Acceptance horizon (exchange clock) of each order never acknowledged by the exchange. */
  private readonly horizons = new Map<number, number>();
  private readonly startedAt: number;
  /** Why signed requests are refused for good (a fatal error), until one succeeds again. */
  private fatal: string | undefined;
  private poller: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private lastPoll = 0;
  private closed = false;
  private readonly abort = new AbortController();

  constructor(opts: BinanceVenueOptions) {
    this.o = opts;
    this.rest = opts.rest;
    this.host = opts.host;
    this.m = opts.metrics;
    this.startedAt = opts.startedAt ?? Date.now();
  }

  private get horizonOptions(): HorizonOptions {
    return { recvWindow: this.rest.recvWindow, marginMs: this.o.acceptanceMarginMs };
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

  /** A signed request; its outcome also tells whether the credentials work. */
  private async call<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    params: Record<string, string | number | undefined>,
    parser: (body: unknown) => T,
    onSign?: (timestamp: number) => void,
  ): Promise<T> {
    try {
      const res = await this.rest.signed(method, path, params, parser, onSign ? { onSign } : {});
      if (this.fatal) this.host.log.info('Binance accepts signed requests again');
      this.fatal = undefined;
      return res;
    } catch (err) {
      if (outcomeOf(err) === 'fatal' && err instanceof Error) {
        if (!this.fatal) this.host.log.error({ err: err.message }, 'Binance refuses the engine’s requests');
        this.fatal = err.message.slice(0, 200);
      }
      throw err;
    }
  }

  /** Never acknowledged: no exchange order id and nothing filled. */
  private unacknowledged(o: Order): boolean {
    return !o.exchangeOrderId && o.filledQuantity === 0;
  }

  private horizonPassed(o: Order): boolean {
    const h = this.horizons.get(o.orderId);
    // Without a signing time (cannot happen for this process's own orders) nothing is final.
    return h !== undefined && this.rest.serverNow() > h;
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
    const out: string[] = [];
    const wait = this.rest.backoffRemainingMs();
    if (wait > this.o.maxBackoffMs)
      out.push(`Binance has blocked requests for another ${Math.ceil(wait / 1000)} s (rate limit ban)`);
    if (this.fatal) out.push(`Binance refuses the engine's signed requests: ${this.fatal}`);
    return out;
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
      const res = await this.call(
        'POST',
        '/api/v3/order',
        {
          symbol: o.symbol,
          side: o.side,
          type: o.type,
          quantity: formatQty(inst, o.quantity),
          ...params,
          newClientOrderId: exchangeClientOrderId(o),
          newOrderRespType: 'FULL',
        },
        parse.order,
        (ts) => this.horizons.set(o.orderId, acceptanceHorizon(ts, this.horizonOptions)),
      );
      await this.apply(
        o,
        res,
        'live',
        res.fills?.map((f) => ({ ...f, id: f.tradeId })),
      );
    } catch (err) {
      const outcome = outcomeOf(err);
      if (!outcome || !(err instanceof Error)) throw err;
      if (outcome === 'unknown') {
        this.update(o, 'UNKNOWN', err.message.slice(0, 200));
        this.host.log.warn(
          { orderId: o.orderId, err: err.message },
          'order outcome unknown; querying the exchange',
        );
        await this.resolve(o, 'unknown');
        return;
      }
      // Refused (filters, balance, a closed market, bad keys, a ban longer than we wait): the
      // exchange said it did not execute it.
      this.update(o, 'REJECTED', err.message.slice(0, 200));
    }
  }

  private async sendCancel(o: Order, seq: number): Promise<void> {
    await this.host.waitDurable(seq);
    if (isTerminal(o.status)) return;
    try {
      await this.deleteOnExchange(o);
    } catch (err) {
      if (!outcomeOf(err) || !(err instanceof Error)) throw err;
      // -2011 (finished, or not arrived yet), a refusal or no answer: ask what is true.
      this.host.log.warn(
        { orderId: o.orderId, err: err.message },
        'cancel not confirmed; querying the exchange',
      );
      await this.resolve(o, 'unknown');
    }
  }

  private query(o: Order): Promise<BinanceOrder> {
    return this.call(
      'GET',
      '/api/v3/order',
      { symbol: o.symbol, origClientOrderId: exchangeClientOrderId(o) },
      parse.order,
    );
  }

  /**
   * Queries until the exchange gives a definite answer. While the order may still arrive, its
   * absence is only noted and asked again, at the latest right after the horizon.
   */
  private async resolve(o: Order, phase: Phase): Promise<void> {
    for (let attempt = 0; !this.closed && !isTerminal(o.status); attempt++) {
      let wait = Math.min(100 * 2 ** attempt, 5000);
      const h = this.horizons.get(o.orderId);
      if (h !== undefined && this.unacknowledged(o)) {
        const untilHorizon = h - this.rest.serverNow();
        if (untilHorizon > 0) wait = Math.min(wait, untilHorizon + 20);
      }
      await this.sleep(wait);
      if (this.closed) return;
      const r = await this.queryAndApply(o, phase);
      if (r === 'done' || r === 'missing') return;
    }
  }

  /** One query: applies the answer; "no such order" is final only after the horizon. */
  private async queryAndApply(o: Order, phase: Phase): Promise<QueryResult> {
    try {
      const ex = await this.query(o);
      await this.apply(o, ex, phase);
      if (o.status === 'PENDING_CANCEL' && (ex.status === 'NEW' || ex.status === 'PARTIALLY_FILLED')) {
        // The cancel never reached the exchange: send it again.
        await this.sendCancelOnce(o);
      }
      return 'done';
    } catch (err) {
      const outcome = outcomeOf(err);
      if (!outcome || !(err instanceof Error)) throw err;
      if (err instanceof BinanceApiError && err.code === ERR.NO_SUCH_ORDER) {
        if (this.unacknowledged(o) && !this.horizonPassed(o)) return 'absent';
        this.missing(o, phase);
        return 'missing';
      }
      if (err instanceof BinanceApiError && err.code === ERR.ORDER_ARCHIVED) {
        // Canceled or expired with nothing executed, long ago: the docs' own words.
        if (canTransition(o.status, 'CANCELED') && o.filledQuantity === 0) {
          this.host.commit({
            type: RecordType.OrderCancel,
            data: { orderId: o.orderId, reason: 'ended on the exchange with nothing executed (archived)' },
          });
          this.differ(phase, 'status');
        }
        return 'done';
      }
      this.host.log.warn({ orderId: o.orderId, err: err.message }, 'order query failed; will retry');
      return 'retry';
    }
  }

  /** DELETE /api/v3/order and record what the exchange answered. */
  private async deleteOnExchange(o: Order): Promise<void> {
    const res = await this.call(
      'DELETE',
      '/api/v3/order',
      { symbol: o.symbol, origClientOrderId: exchangeClientOrderId(o) },
      parse.order,
    );
    await this.apply(o, res, 'live');
  }

  private async sendCancelOnce(o: Order): Promise<void> {
    try {
      await this.deleteOnExchange(o);
    } catch (err) {
      if (!outcomeOf(err) || !(err instanceof Error)) throw err;
      this.host.log.warn(
        { orderId: o.orderId, err: err.message },
        'cancel retry failed; the poller will try again',
      );
    }
  }

  /** The exchange has never heard of the order, and its horizon has passed. */
  private missing(o: Order, phase: Phase): void {
    if (this.unacknowledged(o)) {
      if (canTransition(o.status, 'REJECTED')) {
        this.update(
          o,
          'REJECTED',
          'not found on the exchange after its acceptance horizon: the request never arrived',
        );
        this.differ(phase, 'missing');
        return;
      }
      if (canTransition(o.status, 'CANCELED')) {
        this.host.commit({
          type: RecordType.OrderCancel,
          data: { orderId: o.orderId, reason: 'canceled: the order never reached the exchange' },
        });
        this.differ(phase, 'missing');
        return;
      }
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

  /**
   * What the exchange reports about one of this engine's orders (an answer, a query, an open
   * orders list or a stream event) becomes WAL records. The user data stream feeds this too.
   */
  report(ex: BinanceOrder, trades?: TradeReport[], phase: Phase = 'stream', priorQty?: string): void {
    for (const id of this.host.state.open) {
      const o = this.host.state.orders.get(id)!;
      if (exchangeClientOrderId(o) !== ex.clientOrderId) continue;
      this.enqueue(o.orderId, () => this.apply(o, ex, phase, trades, priorQty));
      return;
    }
  }

  /** Reconciliation: `ex` (or a query's answer) applied in the order's queue; resolves once recorded. */
  reconcileOrder(o: Order, ex?: BinanceOrder): Promise<void> {
    return new Promise((resolve) => {
      this.enqueue(o.orderId, async () => {
        try {
          if (ex) await this.apply(o, ex, 'reconcile');
          else await this.queryAndApply(o, 'reconcile');
        } finally {
          resolve();
        }
      });
    });
  }

  /**
   * Writes what the exchange says about an order that the WAL does not have yet. `trades` are
   * all of the order's trades, or (a stream event) those after `priorQty` was executed.
   */
  private async apply(
    o: Order,
    ex: BinanceOrder,
    phase: Phase,
    trades?: TradeReport[],
    priorQty?: string,
  ): Promise<void> {
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
      const offset = priorQty === undefined ? 0 : exchangeUnits(priorQty, inst.qtyDecimals);
      const given = offset + (trades?.reduce((s, t) => s + exchangeUnits(t.qty, inst.qtyDecimals), 0) ?? 0);
      // Trades that start beyond what the WAL holds would leave a hole: read them all instead.
      if (trades && given >= executed && offset <= o.filledQuantity)
        this.fills(o, inst, trades, executed, phase, offset);
      else this.fills(o, inst, await this.orderTrades(o, ex.orderId), executed, phase);
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

  /** Every trade of an order, a page of TRADES_PAGE at a time from the first trade id. */
  private async orderTrades(o: Order, exchangeOrderId: number): Promise<TradeReport[]> {
    const all: TradeReport[] = [];
    for (let fromId = 0; ;) {
      const page = await this.call(
        'GET',
        '/api/v3/myTrades',
        { symbol: o.symbol, orderId: exchangeOrderId, fromId, limit: TRADES_PAGE },
        parse.trades,
      );
      all.push(...page);
      if (page.length < TRADES_PAGE) return all;
      fromId = Math.max(...page.map((t) => t.id)) + 1;
    }
  }

  /**
   * Records the trades beyond what the WAL already has (trades arrive in id order). A trade's
   * commission is recorded with the record that completes the trade, so it is counted once.
   */
  private fills(
    o: Order,
    inst: Instrument,
    trades: TradeReport[],
    executed: number,
    phase: Phase,
    offset = 0,
  ): void {
    const sorted = [...trades].sort((a, b) => a.id - b.id);
    let seen = offset;
    for (const t of sorted) {
      if (o.filledQuantity >= executed) break;
      const qty = exchangeUnits(t.qty, inst.qtyDecimals);
      const before = seen;
      seen += qty;
      if (seen <= o.filledQuantity) continue;
      const take = Math.min(seen - Math.max(before, o.filledQuantity), executed - o.filledQuantity);
      if (take <= 0) continue;
      const price = exchangeUnits(t.price, inst.priceDecimals);
      const complete = o.filledQuantity + take === seen;
      const commission = complete ? commissionOf(t) : undefined;
      this.host.commit({
        type: RecordType.OrderFill,
        data: {
          orderId: o.orderId,
          quantity: take,
          price,
          tradeId: t.id,
          ...(commission && { commission }),
        },
      });
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
      if (this.unacknowledged(o))
        this.horizons.set(
          o.orderId,
          recoveredHorizon(o, this.startedAt, this.rest.timeOffsetMs, this.horizonOptions),
        );
      for (let attempt = 0; ; attempt++) {
        const r = await this.queryAndApply(o, 'start');
        if (r === 'absent') {
          // It may still arrive: UNKNOWN until the exchange shows it or its horizon passes.
          if (o.status === 'SUBMITTED') {
            this.update(o, 'UNKNOWN', 'not on the exchange yet; waiting for its acceptance horizon');
            this.differ('start', 'unknown');
          }
          this.enqueue(o.orderId, () => this.resolve(o, 'start'));
          break;
        }
        if (r !== 'retry') break;
        if (attempt >= 4) throw new Error(`cannot reconcile order ${o.orderId} with Binance`);
        await this.sleep(500 * 2 ** attempt);
      }
    }
    const known = new Set([...s.orders.values()].map((o) => exchangeClientOrderId(o)));
    for (const symbol of this.host.instruments.keys()) {
      const exOpen = await this.call('GET', '/api/v3/openOrders', { symbol }, parse.orders);
      for (const ex of exOpen) {
        if (!(this.o.ours ?? isOwnClientOrderId)(ex.clientOrderId) || known.has(ex.clientOrderId)) continue;
        this.differ('start', 'unknown_on_exchange');
        this.host.log.warn(
          { symbol, clientOrderId: ex.clientOrderId, exchangeOrderId: ex.orderId },
          'an open order on the exchange looks like ours but is not in the WAL; reconciliation adopts it',
        );
      }
    }
    await this.host.waitDurable(s.lastSequence);
    this.poller = setInterval(() => this.schedulePoll(), this.o.pollIntervalMs);
    this.poller.unref();
  }

  /** Polls at once (the user data stream is back after a gap that may have hidden events). */
  pollNow(): void {
    this.schedulePoll(true);
  }

  private schedulePoll(force = false): void {
    if (this.polling || this.closed) return;
    // The stream reports changes as they happen; the poll then only backs it up, now and then.
    const backup = this.o.streamLive?.() && !this.fatal;
    if (
      !force &&
      backup &&
      Date.now() - this.lastPoll < Math.max(STREAM_BACKUP_POLL_MS, this.o.pollIntervalMs)
    )
      return;
    this.lastPoll = Date.now();
    const p: Promise<void> = this.poll()
      .catch((err: unknown) => this.host.log.warn({ err }, 'order status poll failed'))
      .finally(() => {
        this.polling = undefined;
        this.tasks.delete(p);
      });
    this.polling = p;
    this.tasks.add(p);
  }

  /**
   * Finds fills and state changes of resting orders: open orders per symbol, then each order
   * the WAL holds open (UNKNOWN ones included) that the list does not show is queried.
   */
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
    const first = this.host.instruments.keys().next().value;
    if (this.fatal && bySymbol.size === 0 && first !== undefined) {
      // Nothing to ask about, but readiness waits for a signed request to succeed again.
      await this.call('GET', '/api/v3/openOrders', { symbol: first }, parse.orders);
      return;
    }
    for (const [symbol, orders] of bySymbol) {
      if (this.closed) return;
      const exOpen = await this.call('GET', '/api/v3/openOrders', { symbol }, parse.orders);
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

/** A trade's commission in WAL units, or undefined when there is none. */
function commissionOf(t: TradeReport): Commission | undefined {
  if (t.commission === undefined || !t.commissionAsset) return undefined;
  const amount = exchangeUnits(t.commission, COMMISSION_DECIMALS);
  return amount > 0 ? { asset: t.commissionAsset, amount } : undefined;
}
