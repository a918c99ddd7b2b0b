// Continuous reconciliation (DESIGN §8): at start and every VELOZ_RECONCILE_INTERVAL the open
// orders, recent trades and balances on the exchange are compared with the WAL. Where the
// exchange is authoritative the WAL is repaired through the venue's own code (a missing fill, a
// status, an order of this desk the WAL lacks, an order the exchange no longer lists); what
// cannot be repaired halts new orders (fail closed) and stays open until an operator resumes
// trading, which acknowledges it. A run never guesses: it only writes what the exchange said.
import type { Reconciliation, ReconciliationDifference } from '@veloz/api/http/contract';
import { RecordType } from '@veloz/wal/format';
import { parseScaled } from '../domain/decimal.ts';
import type { Instrument } from '../domain/instrument.ts';
import type { Order } from '../domain/order.ts';
import { isTerminal } from '../domain/order-state.ts';
import { parse } from './binance-answers.ts';
import type { BinanceRest } from './binance-rest.ts';
import type { BinanceOrder } from './binance-types.ts';
import { exchangeClientOrderId, isOwnClientOrderId } from './binance-venue.ts';
import { exchangeUnits } from './filters.ts';
import type { ExchangeMetrics } from './metrics.ts';
import type { ExecutionVenue, VenueHost } from './venue.ts';

export type Difference = ReconciliationDifference;
type Kind = Difference['kind'];

/** What the reconciler needs of the venue: one order brought in line, in that order's queue. */
export interface ReconcileVenue {
  /** Applies `ex` (or, without it, a query's answer) to the order; resolves when recorded. */
  reconcileOrder(o: Order, ex?: BinanceOrder): Promise<void>;
}

export interface ReconcilerOptions {
  rest: BinanceRest;
  host: VenueHost;
  venue: ReconcileVenue;
  metrics: ExchangeMetrics;
  /** Between two runs; 0 runs only at start. */
  intervalMs: number;
  /** This desk's client order ids on the exchange (default: the venue's). */
  ours?: (clientOrderId: string) => boolean;
}

/** myTrades answers at most 1000 trades per request. */
const TRADES_LIMIT = 1000;
/** Orders asked about per symbol and run because of their trades (weight 4 each). */
const ORDER_QUERIES_PER_RUN = 20;
const BALANCE_DECIMALS = 18;

interface Run {
  found: Difference[];
  repaired: Difference[];
  open: Difference[];
}

export class Reconciler {
  private readonly o: ReconcilerOptions;
  private readonly ours: (cid: string) => boolean;
  private last: Reconciliation['lastRun'] = null;
  private runs = 0;
  private found: Difference[] = [];
  private repaired: Difference[] = [];
  /** Unrepaired differences, kept until trading is resumed. */
  private open: Difference[] = [];
  private haltedByUs = false;
  /** Per symbol, the newest trade id already looked at. */
  private readonly tradeCursor = new Map<string, number>();
  /** Exchange order ids (per symbol) of orders that are not this desk's: never asked again. */
  private readonly foreign = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(opts: ReconcilerOptions) {
    this.o = opts;
    this.ours = opts.ours ?? isOwnClientOrderId;
  }

  /** The first run, awaited; then one every interval. */
  async start(): Promise<void> {
    await this.run();
    if (this.o.intervalMs > 0 && !this.closed) {
      this.timer = setInterval(() => void this.run(), this.o.intervalMs);
      this.timer.unref();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.running;
  }

  report(): Reconciliation {
    return {
      enabled: true,
      intervalMs: this.o.intervalMs,
      runs: this.runs,
      lastRun: this.last,
      inSync: !!this.last?.ok && this.open.length === 0,
      halted: this.haltedByUs && this.o.host.halted(),
      found: this.found,
      repaired: this.repaired,
      open: this.open,
    };
  }

  /** One run; a run already going is awaited instead of starting another. */
  run(): Promise<void> {
    if (this.running) return this.running;
    const p = this.runOnce().finally(() => {
      this.running = undefined;
    });
    this.running = p;
    return p;
  }

  private async runOnce(): Promise<void> {
    const host = this.o.host;
    if (this.open.length > 0 && !host.halted()) {
      // Trading was resumed after the halt: the operator has acknowledged what was open.
      host.log.warn(
        { open: this.open.length },
        'trading resumed: open reconciliation differences acknowledged',
      );
      this.open = [];
      this.haltedByUs = false;
    }
    const haltedAtStart = host.halted();
    const startedAt = Date.now();
    const r: Run = { found: [], repaired: [], open: [] };
    let error = '';
    try {
      for (const inst of host.instruments.values()) {
        if (this.closed) return;
        await this.orders(inst, r);
        await this.trades(inst, r);
      }
      await this.balances(r);
    } catch (err) {
      error = (err instanceof Error ? err.message : String(err)).slice(0, 300);
      host.log.warn({ err: error }, 'reconciliation with the exchange did not finish');
    }
    this.runs++;
    this.last = { startedAt, finishedAt: Date.now(), ok: error === '', error };
    this.found = r.found;
    this.repaired = r.repaired;
    for (const d of r.found) this.o.metrics.reconcileDifferences.inc({ phase: 'reconcile', kind: d.kind });
    if (this.haltedByUs && haltedAtStart && !host.halted()) {
      // Resumed while this run was asking: what was open is acknowledged, and this run's view of
      // it may predate the fix. Only what is new halts again; the next run looks afresh.
      const acknowledged = this.open;
      this.open = [];
      this.haltedByUs = false;
      r.open = r.open.filter((d) => !acknowledged.some((x) => same(x, d)));
    }
    for (const d of r.open) if (!this.open.some((x) => same(x, d))) this.open.push(d);
    this.o.metrics.openDifferences.set(this.open.length);
    this.o.metrics.inSync.set(error === '' && this.open.length === 0 ? 1 : 0);
    if (r.found.length > 0)
      host.log.warn(
        { found: r.found.length, repaired: r.repaired.length, open: r.open.length },
        'reconciliation found differences with the exchange',
      );
    if (this.open.length > 0 && !host.halted()) {
      const first = this.open[0]!;
      const more = this.open.length > 1 ? ` (and ${this.open.length - 1} more)` : '';
      host.log.error({ open: this.open }, 'the WAL and the exchange disagree; halting new orders');
      host.halt(`exchange out of sync: ${first.message}${more}`);
      this.haltedByUs = true;
    }
  }

  private diff(kind: Kind, symbol: string, o: Order | undefined, cid: string, message: string): Difference {
    return { kind, symbol, orderId: o?.orderId ?? 0, exchangeClientOrderId: cid, message };
  }

  private ordersOf(symbol: string): Map<string, Order> {
    const out = new Map<string, Order>();
    for (const o of this.o.host.state.orders.values())
      if (o.symbol === symbol) out.set(exchangeClientOrderId(o), o);
    return out;
  }

  /** Open orders on the exchange against the orders the WAL holds open. */
  private async orders(inst: Instrument, r: Run): Promise<void> {
    const { rest, venue, host } = this.o;
    const symbol = inst.symbol;
    const exOpen = await rest.signed('GET', '/api/v3/openOrders', { symbol }, parse.orders);
    // Read after the answer: an order is in the WAL before its request leaves, so every order
    // of this process that the answer can show is here.
    const wal = this.ordersOf(symbol);
    const listed = new Set<string>();
    for (const ex of exOpen) {
      // An order the WAL holds is ours whatever its id's form (one from before desk ids, say).
      if (!wal.has(ex.clientOrderId) && !this.ours(ex.clientOrderId)) continue;
      listed.add(ex.clientOrderId);
      const o = wal.get(ex.clientOrderId);
      if (!o) {
        await this.adopt(inst, ex, r);
        continue;
      }
      if (isTerminal(o.status)) {
        await this.terminalButListed(o, ex, r);
        continue;
      }
      const before = { status: o.status, filled: o.filledQuantity };
      const executed = exchangeUnits(ex.executedQty, inst.qtyDecimals);
      if (executed === o.filledQuantity && !['SUBMITTED', 'UNKNOWN'].includes(o.status)) continue;
      await venue.reconcileOrder(o, ex);
      this.changed(o, before, ex.clientOrderId, r);
    }
    for (const [cid, o] of wal) {
      if (listed.has(cid) || isTerminal(o.status) || o.status === 'NEW') continue;
      const before = { status: o.status, filled: o.filledQuantity };
      await venue.reconcileOrder(o);
      if (isTerminal(o.status)) {
        const d = this.diff(
          'resolved',
          symbol,
          o,
          cid,
          `order ${o.orderId} ended on the exchange: ${o.status}`,
        );
        r.found.push(d);
        r.repaired.push(d);
        if (o.filledQuantity !== before.filled) this.changed(o, { ...before, status: o.status }, cid, r);
      } else if (o.status === 'UNKNOWN' && o.exchangeOrderId) {
        const d = this.diff(
          'unresolved',
          symbol,
          o,
          cid,
          `order ${o.orderId} (exchange order ${o.exchangeOrderId}) is open in the WAL but the exchange does not list it`,
        );
        r.found.push(d);
        r.open.push(d);
      } else this.changed(o, before, cid, r);
    }
    host.log.debug({ symbol, open: exOpen.length }, 'open orders reconciled');
  }

  /** Records what changed in `o` since `before` as repaired differences. */
  private changed(o: Order, before: { status: string; filled: number }, cid: string, r: Run): void {
    if (o.filledQuantity !== before.filled) {
      const d = this.diff(
        'fill',
        o.symbol,
        o,
        cid,
        `order ${o.orderId}: fills of ${o.filledQuantity - before.filled} units recorded from the exchange`,
      );
      r.found.push(d);
      r.repaired.push(d);
    } else if (o.status !== before.status) {
      const d = this.diff('status', o.symbol, o, cid, `order ${o.orderId}: ${before.status} -> ${o.status}`);
      r.found.push(d);
      r.repaired.push(d);
    }
  }

  /**
   * The WAL holds the order finished, the list showed it open. The list may predate a cancel or
   * fill the engine has since recorded, so only the order's own answer now counts.
   */
  private async terminalButListed(o: Order, listed: BinanceOrder, r: Run): Promise<void> {
    const ex = await this.o.rest.signed(
      'GET',
      '/api/v3/order',
      { symbol: o.symbol, origClientOrderId: listed.clientOrderId },
      parse.order,
    );
    if (ex.status !== 'NEW' && ex.status !== 'PARTIALLY_FILLED') return;
    const d = this.diff(
      'terminal_mismatch',
      o.symbol,
      o,
      listed.clientOrderId,
      `order ${o.orderId} is ${o.status} in the WAL but ${ex.status} on the exchange`,
    );
    r.found.push(d);
    r.open.push(d);
  }

  /** An order of this desk the WAL lacks becomes an order of the account ("" strategy). */
  private async adopt(inst: Instrument, ex: BinanceOrder, r: Run): Promise<void> {
    const why = unadoptable(inst, ex);
    if (why) {
      const d = this.diff(
        'not_adoptable',
        inst.symbol,
        undefined,
        ex.clientOrderId,
        `exchange order ${ex.orderId} (${ex.clientOrderId}) is this desk's but not in the WAL, and ${why}`,
      );
      r.found.push(d);
      r.open.push(d);
      return;
    }
    const { host, venue } = this.o;
    const o = host.commit({
      type: RecordType.OrderNew,
      data: {
        orderId: host.state.nextOrderId,
        // The exchange's id itself, so every later request names the same order.
        clientOrderId: ex.clientOrderId,
        exchangeClientOrderId: ex.clientOrderId,
        symbol: inst.symbol,
        side: ex.side,
        type: ex.type as Order['type'],
        timeInForce: (ex.timeInForce || 'GTC') as Order['timeInForce'],
        price: ex.type === 'LIMIT' ? exchangeUnits(ex.price, inst.priceDecimals) : 0,
        quantity: exchangeUnits(ex.origQty, inst.qtyDecimals),
        strategy: '',
      },
    });
    host.commit({
      type: RecordType.OrderUpdate,
      data: {
        orderId: o.orderId,
        status: 'SUBMITTED',
        reason: 'adopted from the exchange',
        exchangeOrderId: '',
      },
    });
    await venue.reconcileOrder(o, ex);
    const d = this.diff(
      'adopted',
      inst.symbol,
      o,
      ex.clientOrderId,
      `exchange order ${ex.orderId} (${ex.clientOrderId}) was not in the WAL: adopted as order ${o.orderId} (${o.status})`,
    );
    r.found.push(d);
    r.repaired.push(d);
  }

  /**
   * Trades since the last run: a trade of an order the WAL holds finished with less executed is
   * a drift nothing can repair; a trade of an order of this desk that the WAL lacks is adopted.
   */
  private async trades(inst: Instrument, r: Run): Promise<void> {
    const { rest, host } = this.o;
    const symbol = inst.symbol;
    const cursor = this.tradeCursor.get(symbol);
    const trades = await rest.signed(
      'GET',
      '/api/v3/myTrades',
      { symbol, limit: TRADES_LIMIT, ...(cursor !== undefined && { fromId: cursor + 1 }) },
      parse.trades,
    );
    if (trades.length === 0) return;
    const byExchangeId = new Map<string, Order>();
    for (const o of host.state.orders.values())
      if (o.symbol === symbol && o.exchangeOrderId) byExchangeId.set(o.exchangeOrderId, o);
    const asked = new Set<number>();
    let byClientId: Map<string, Order> | undefined;
    const sorted = [...trades].sort((a, b) => a.id - b.id);
    let seen = cursor ?? 0;
    for (const t of sorted) {
      if (asked.has(t.orderId) || this.foreign.has(`${symbol}:${t.orderId}`)) {
        seen = t.id;
        continue;
      }
      let o = byExchangeId.get(String(t.orderId));
      if (o && (!isTerminal(o.status) || o.status === 'FILLED')) {
        seen = t.id;
        continue;
      }
      // A bounded weight per run (the first run after a start may see many old trades): the rest
      // waits for the next run, from this trade on.
      if (asked.size >= ORDER_QUERIES_PER_RUN) break;
      asked.add(t.orderId);
      const ex = await rest.signed('GET', '/api/v3/order', { symbol, orderId: t.orderId }, parse.order);
      seen = t.id;
      if (!o) {
        byClientId ??= this.ordersOf(symbol);
        o = byClientId.get(ex.clientOrderId);
        if (!o && !this.ours(ex.clientOrderId)) {
          this.foreign.add(`${symbol}:${t.orderId}`);
          continue;
        }
        if (!o) {
          await this.adopt(inst, ex, r);
          continue;
        }
        if (!isTerminal(o.status)) {
          const before = { status: o.status, filled: o.filledQuantity };
          await this.o.venue.reconcileOrder(o, ex);
          this.changed(o, before, ex.clientOrderId, r);
          continue;
        }
      }
      const executed = exchangeUnits(ex.executedQty, inst.qtyDecimals);
      if (executed > o.filledQuantity) {
        const d = this.diff(
          'terminal_mismatch',
          symbol,
          o,
          ex.clientOrderId,
          `order ${o.orderId} is ${o.status} in the WAL with ${o.filledQuantity} units filled, but the exchange executed ${executed}`,
        );
        r.found.push(d);
        r.open.push(d);
      }
    }
    this.tradeCursor.set(symbol, seen);
  }

  /** The account's long position in a symbol needs at least as much of its base asset. */
  private async balances(r: Run): Promise<void> {
    const { rest, host } = this.o;
    const account = await rest.signed('GET', '/api/v3/account', {}, parse.account);
    const held = new Map<string, bigint>();
    for (const b of account.balances)
      held.set(b.asset, parseScaled(b.free, BALANCE_DECIMALS) + parseScaled(b.locked, BALANCE_DECIMALS));
    for (const inst of host.instruments.values()) {
      const net = host.state.positions.get(`\u0000${inst.symbol}`)?.net ?? 0;
      if (net <= 0) continue;
      const need = BigInt(net) * 10n ** BigInt(BALANCE_DECIMALS - inst.qtyDecimals);
      const have = held.get(inst.baseAsset) ?? 0n;
      if (have >= need) continue;
      const d = this.diff(
        'balance',
        inst.symbol,
        undefined,
        '',
        `the WAL's ${inst.symbol} position needs ${fmt(need)} ${inst.baseAsset}, the exchange holds ${fmt(have)}`,
      );
      r.found.push(d);
      r.open.push(d);
    }
  }
}

function fmt(v: bigint): string {
  const s = v.toString().padStart(BALANCE_DECIMALS + 1, '0');
  const frac = s.slice(-BALANCE_DECIMALS).replace(/0+$/, '');
  return `${s.slice(0, -BALANCE_DECIMALS)}${frac ? `.${frac}` : ''}`;
}

function same(a: Difference, b: Difference): boolean {
  return (
    a.kind === b.kind &&
    a.symbol === b.symbol &&
    a.orderId === b.orderId &&
    a.exchangeClientOrderId === b.exchangeClientOrderId
  );
}

/** Why the engine cannot hold `ex` as one of its orders, or undefined when it can. */
function unadoptable(inst: Instrument, ex: BinanceOrder): string | undefined {
  if (ex.side !== 'BUY' && ex.side !== 'SELL') return `its side ${String(ex.side)} is not BUY or SELL`;
  if (ex.type !== 'LIMIT' && ex.type !== 'MARKET') return `its type ${ex.type} is not LIMIT or MARKET`;
  if (ex.type === 'LIMIT' && ex.timeInForce !== 'GTC' && ex.timeInForce !== 'IOC')
    return `its timeInForce ${ex.timeInForce} is not GTC or IOC`;
  try {
    exchangeUnits(ex.origQty, inst.qtyDecimals);
    if (ex.type === 'LIMIT') exchangeUnits(ex.price, inst.priceDecimals);
  } catch (err) {
    return `its price or quantity does not fit ${inst.symbol}'s filters (${err instanceof Error ? err.message : String(err)})`;
  }
  return undefined;
}

/**
 * The venue with reconciliation: the first run follows the venue's own recovery at start (and
 * start-up waits for it), and reconciliation stops before the venue does.
 */
export function withReconciliation(venue: ExecutionVenue, reconciler: Reconciler): ExecutionVenue {
  return {
    submit: (o) => venue.submit(o),
    cancel: (o, reason) => venue.cancel(o, reason),
    recover: async () => {
      await venue.recover();
      await reconciler.start();
    },
    readiness: () => venue.readiness(),
    close: async () => {
      await reconciler.close();
      await venue.close();
    },
    reconciliation: () => reconciler.report(),
  };
}
