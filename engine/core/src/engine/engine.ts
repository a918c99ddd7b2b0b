// The engine: recovers its state from the WAL, accepts orders through risk checks, writes every
// change to the WAL before it becomes visible, and executes through a venue: the simulated
// market, or Binance (engine/core/src/exchange). Both share the same order path.
import type { Logger } from 'pino';
import type { Order as OrderAnswer, Reconciliation } from '@veloz/api/http/contract';
import type { Config } from '@veloz/api/variables';
import {
  defaultInstrument,
  formatPrice as formatPriceOf,
  formatQty as formatQtyOf,
  type Instrument,
} from '../domain/instrument.ts';
import type { Order } from '../domain/order.ts';
import { remaining } from '../domain/order.ts';
import { formatScaled } from '../domain/decimal.ts';
import { isTerminal } from '../domain/order-state.ts';
import { mid, type Quote } from '../market/book.ts';
import { SimMarket } from '../market/sim-market.ts';
import type { EngineMetrics } from '../metrics/engine-metrics.ts';
import type { ExchangeSetup } from '../exchange/setup.ts';
import type { ExecutionVenue, FeedSink, MarketFeed, VenueHost } from '../exchange/venue.ts';
import { RiskEngine, RiskRejection, type Exposure } from '../risk/risk.ts';
import { shipperFromConfig, type WalShipper } from '@veloz/backup/shipping/shipper';
import { formatClientOrderId, type DeskPair } from '@veloz/api/client-order-id';
import { deploymentPair, deskPair } from './desk-pair.ts';
import { exchangeClientOrderId } from '../domain/client-order-id.ts';
import type { EngineIdentity } from '@veloz/wal/snapshot-format';
import { SimMatcher, type ExecEvent } from '../sim/matcher.ts';
import { RecordType } from '@veloz/wal/format';
import {
  encodeOrderRecord,
  encodeStrategyHalt,
  encodeTradingHalt,
  COMMISSION_DECIMALS,
  type OrderFillPayload,
  type OrderRecord,
  type StrategyHaltPayload,
} from '@veloz/wal/payloads';
import { recoverWal, type Recovered } from '@veloz/wal/recovery';
import { WalWriter, type WalSnapshot } from '@veloz/wal/writer';
import { EventHub } from './events.ts';
import { GENERATED_ID_PREFIX, InputError, parseOrderRequest, type PlaceOrderRequest } from './order-input.ts';
import { EngineState } from './state.ts';
import { stateReplayHandler } from './replay-handler.ts';
import { backgroundCheckpoints } from './background-checkpoint.ts';

export class NotFoundError extends Error {}
export class ConflictError extends Error {}
export class UnavailableError extends Error {}
/** New orders refused while the engine cannot renew its Lease (self-fencing, ADR 18). */
export class FencedError extends UnavailableError {}
/** A request the engine refuses for now, to be retried after `retryAfterMs`. */
export class TooSoonError extends Error {
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

export interface EngineOptions {
  config: Config;
  logger: Logger;
  metrics: EngineMetrics;
  now?: () => number;
}

export interface PlaceResult {
  order: Order;
  created: boolean;
}

export class Engine {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: EngineMetrics;
  readonly state: EngineState;
  readonly instruments: ReadonlyMap<string, Instrument>;
  readonly events = new EventHub();
  readonly risk: RiskEngine;
  readonly matcher = new SimMatcher();
  private readonly markets = new Map<string, SimMarket>();
  private readonly now: () => number;
  private wal!: WalWriter;
  private shipper: WalShipper | null = null;
  private recovered!: Recovered;
  private replaySeconds = 0;
  /** The newest checkpoint, replayed or written: the operator reports it per pair. */
  private lastCheckpoint: { sequence: number; timestamp: number } | null = null;
  private timer: NodeJS.Timeout | undefined;
  /** When the last checkpoint asked for by a caller was written (the rate limit's clock). */
  private lastRequestedCheckpoint = -Infinity;
  private outbox: Array<{ seq: number; order: Order; fill?: OrderFillPayload }> = [];
  private accepting = false;
  private readonly quoteListeners = new Set<(q: Quote) => void>();
  private readonly orderListeners = new Set<(o: Order) => void>();
  private venue: ExecutionVenue;
  private feed: MarketFeed | undefined;
  /** Why new orders are refused by self-fencing (ADR 0018), or undefined; none without a fence. */
  private fence: () => string | undefined = () => undefined;
  /** Named in every new order's exchange client order id; undefined without VELOZ_DESK_ID. */
  private readonly deskPair: DeskPair | undefined;

  private constructor(opts: EngineOptions, instruments?: Map<string, Instrument>) {
    this.config = opts.config;
    this.log = opts.logger;
    this.metrics = opts.metrics;
    this.now = opts.now ?? Date.now;
    this.deskPair = deskPair(opts.config);
    const symbols = [
      opts.config.marketSymbol,
      ...opts.config.symbols.filter((s) => s !== opts.config.marketSymbol),
    ];
    this.instruments = instruments ?? new Map(symbols.map((s) => [s, defaultInstrument(s)]));
    this.state = new EngineState(opts.config.orderHistory, (s) => this.instruments.get(s), {
      idempotencyWindowMs: opts.config.idempotencyWindow * 1000,
      generatedIdPrefix: GENERATED_ID_PREFIX,
    });
    this.venue = this.simVenue();
    this.risk = new RiskEngine(
      {
        maxOrderQuantity: opts.config.maxOrderQuantity,
        maxOrderNotional: opts.config.maxOrderNotional,
        maxOpenOrders: opts.config.maxOpenOrders,
        maxPosition: opts.config.maxPosition,
      },
      opts.config.orderRateLimit,
      opts.config.tradingHalted,
    );
  }

  /** Recovers the WAL, opens it for writing and starts the market. */
  static async start(opts: EngineOptions): Promise<Engine> {
    const c = opts.config;
    let exchange: ExchangeSetup | undefined;
    if (c.executionMode !== 'sim_engine' || c.marketSource !== 'sim') {
      // Loaded only when used: the simulated engine never touches exchange code.
      const { setupExchange } = await import('../exchange/setup.ts');
      const symbols = [c.marketSymbol, ...c.symbols.filter((s) => s !== c.marketSymbol)];
      exchange = await setupExchange(c, opts.logger, opts.metrics, symbols);
    }
    const e = new Engine(opts, exchange?.instruments);
    if (exchange?.createVenue) e.venue = exchange.createVenue(e.venueHost());
    await e.recover();
    e.shipper = await shipperFromConfig(c, () => e.wal.durableSequence, e.log, e.metrics.walShip);
    await e.startMarket(exchange?.createFeed);
    e.accepting = true;
    e.updateReady();
    return e;
  }

  private async recover(): Promise<void> {
    const t0 = performance.now();
    const m = this.metrics;
    this.recovered = await recoverWal(
      this.config.walDir,
      this.config.walRecoveryMode,
      stateReplayHandler(this.state, (sequence, timestamp) => {
        this.lastCheckpoint = { sequence, timestamp };
      }),
      this.now,
    );
    this.replaySeconds = (performance.now() - t0) / 1000;
    const rep = this.recovered.report;
    m.walReplaySeconds.set(this.replaySeconds);
    m.walReplayedEntries.set(this.recovered.replayedEntries);
    m.walCorrupted.set(rep.corruptRecords);
    m.walTornTail.set(rep.tornTailBytes);
    for (const a of rep.actions) this.log.warn({ action: a }, 'WAL repaired during recovery');
    const jump = this.recovered.jump;
    if (jump) {
      this.log.warn(
        { after: jump.previous, continuesAt: jump.seq, lost: jump.lost },
        'WAL sequence jump declared: lost sequence numbers are never written again',
      );
    }
    this.wal = await WalWriter.open(
      {
        dir: this.config.walDir,
        maxSegmentBytes: this.config.walMaxSize,
        maxFiles: this.config.walMaxFiles,
        sync: this.config.walSync,
        checkpointInterval: this.config.walCheckpointInterval,
        now: this.now,
        hooks: {
          onBatch: (entries, bytes, fsync) => {
            m.walEntries.inc(entries);
            m.walBytes.inc(bytes);
            m.walBatch.observe(entries);
            if (fsync !== null) m.walFsync.observe(fsync);
            m.walLastSequence.set(this.wal.durableSequence);
            this.publishDurable();
          },
          onRotation: (name) => {
            m.walRotations.inc();
            this.log.info({ segment: name }, 'WAL segment sealed');
          },
          onCheckpoint: (sequence, _bytes, timestamp) => {
            m.walCheckpoints.inc();
            this.lastCheckpoint = { sequence, timestamp };
          },
          onRetentionDelete: (name) => this.log.info({ segment: name }, 'WAL segment deleted by retention'),
          onWriteFailure: (err, attempt, retryInMs) => {
            m.walWriteFailures.inc({ code: err.code || 'unknown' });
            m.walUnavailable.set(1);
            this.updateReady();
            this.log.error(
              { path: err.path, errno: err.code, attempt, retryInMs, err: err.cause },
              attempt === 1
                ? 'WAL write failed: out of service (orders answer 503) until a retry succeeds'
                : 'WAL write failed again: still out of service',
            );
          },
          onWritable: (seconds, attempts) => {
            m.walUnavailable.set(0);
            m.walLastSequence.set(this.wal.durableSequence);
            this.updateReady();
            this.publishDurable();
            this.log.warn(
              { unavailableSeconds: seconds, attempts, durableSequence: this.wal.durableSequence },
              'WAL writable again: back in service',
            );
          },
        },
      },
      this.recovered,
    );
    this.wal.setSnapshotProvider(() => this.state.snapshot());
    this.wal.setBackgroundCheckpoint(
      backgroundCheckpoints(this.state, this.wal, {
        onError: (err) =>
          this.log.error({ err }, 'building a WAL checkpoint failed; the next interval retries'),
      }),
    );
    // Before serving: a new segment after a restart (or a declared jump) starts with a checkpoint,
    // which the first order would otherwise wait for.
    await this.wal.writeOwedCheckpoint();
    // A halt recorded in the log outlives restarts; VELOZ_TRADING_HALTED=true starts halted whatever
    // the log says.
    const t = this.state.trading;
    if (t && !this.risk.halted) {
      this.risk.halted = t.halted;
      this.risk.haltReason = t.halted ? t.reason : '';
    }
    m.walUp.set(1);
    m.walLastSequence.set(this.recovered.lastSequence);
    this.log.info(
      {
        lastSequence: this.recovered.lastSequence,
        replayed: this.recovered.replayedEntries,
        seconds: this.replaySeconds,
        openOrders: this.state.open.size,
      },
      'WAL recovered',
    );
  }

  private async startMarket(createFeed?: (sink: FeedSink) => MarketFeed): Promise<void> {
    if (createFeed) {
      this.feed = createFeed({
        quote: (q) => this.ingestQuote(q),
        event: (type, data) => this.events.publish(type, data),
      });
      this.feed.start();
      await this.venue.recover();
      return;
    }
    for (const inst of this.instruments.values()) {
      this.markets.set(
        inst.symbol,
        new SimMarket(inst, this.config.simSeed, this.state.marks.get(inst.symbol)),
      );
    }
    // The first quote gives every symbol a price before orders arrive.
    for (const sym of this.markets.keys()) this.stepMarket(sym);
    await this.venue.recover();
    if (this.config.simTickMs > 0) {
      this.timer = setInterval(() => {
        try {
          for (const sym of this.markets.keys()) this.stepMarket(sym);
        } catch (err) {
          // A timer must never take the process down: the orders it could not record stay open.
          this.log.error({ err }, 'market step failed');
        }
      }, this.config.simTickMs);
      this.timer.unref();
    }
  }

  /** The simulated venue: the matcher answers synchronously, so its events are recorded at once. */
  private simVenue(): ExecutionVenue {
    return {
      submit: (o) => this.execute(o, this.matcher.submit(o)),
      cancel: (o, reason) => {
        this.matcher.remove(o.symbol, o.orderId);
        return this.commit({ type: RecordType.OrderCancel, data: { orderId: o.orderId, reason } });
      },
      recover: async () => {
        // Open orders from the WAL go back in the simulated queue; orders that never reached the
        // venue (the process died in between) are submitted now.
        for (const id of [...this.state.open].sort((a, b) => a - b)) {
          const o = this.state.orders.get(id)!;
          if (o.status === 'NEW') this.execute(o, this.matcher.submit(o));
          else
            this.matcher.rest(
              { orderId: o.orderId, side: o.side, price: o.price, remaining: remaining(o) },
              o.symbol,
            );
        }
      },
      readiness: () => [],
      close: async () => {},
    };
  }

  /** What an exchange venue may do to the engine: record, wait for durability, publish. */
  private venueHost(): VenueHost {
    return {
      log: this.log,
      metrics: this.metrics,
      state: this.state,
      instruments: this.instruments,
      commit: (rec) => this.commit(rec),
      waitDurable: (seq) => this.wal.waitDurable(seq),
      publish: (type, data) => this.events.publish(type, data),
      // The venue halts from a timer: the halt holds in memory at once, and a WAL that cannot take
      // its record (logged) must not turn it into an unhandled rejection.
      halt: (reason) => {
        this.risk.halted = true;
        this.risk.haltReason = reason;
        this.halt(reason).catch((err: unknown) => {
          this.log.error({ err, reason }, 'exchange halt not recorded in the WAL');
        });
      },
      halted: () => this.risk.halted,
    };
  }

  /** Advances one symbol's simulated market by one step (tests call this with VELOZ_SIM_TICK_MS=0). */
  stepMarket(symbol: string): Quote {
    const market = this.markets.get(symbol);
    if (!market) throw new NotFoundError(`unknown symbol ${symbol}`);
    const q = market.step(this.now());
    this.ingestQuote(q);
    return q;
  }

  /** A market update from any source: marks, simulated matching, strategies. */
  private ingestQuote(q: Quote): void {
    const symbol = q.symbol;
    this.state.marks.set(symbol, mid(q));
    this.metrics.marketUpdates.inc({ symbol });
    // Quotes can arrive before recovery has opened the WAL; nothing may be matched until then,
    // nor while the WAL cannot record a fill (the matcher would trade what the state never sees).
    if (this.wal && !this.wal.failed) this.execute(undefined, this.matcher.onQuote(q));
    for (const l of this.quoteListeners) l(q);
  }

  onQuote(l: (q: Quote) => void): () => void {
    this.quoteListeners.add(l);
    return () => this.quoteListeners.delete(l);
  }

  /** Called for every order change once it is durable. */
  onOrder(l: (o: Order) => void): () => void {
    this.orderListeners.add(l);
    return () => this.orderListeners.delete(l);
  }

  quote(symbol: string): Quote | undefined {
    return this.matcher.quote(symbol);
  }

  markPrice(symbol: string): number {
    return this.state.marks.get(symbol) ?? 0;
  }

  /** check -> WAL append -> apply: nothing reaches the state that is not in the log first. */
  private commit(rec: OrderRecord): Order {
    if (this.wal.failed) throw new UnavailableError(this.wal.failed.message);
    this.state.check(rec);
    // The state and the record carry the same time, so a replay reproduces it exactly.
    const now = this.now();
    const seq = this.wal.append(rec.type, encodeOrderRecord(rec), now);
    const order = this.state.apply(rec, seq, now);
    this.metrics.orderEvents.inc({ status: order.status });
    const fill = rec.type === RecordType.OrderFill ? rec.data : undefined;
    this.outbox.push(fill ? { seq, order: { ...order }, fill } : { seq, order: { ...order } });
    return order;
  }

  private publishDurable(): void {
    const durable = this.wal.durableSequence;
    let n = 0;
    while (n < this.outbox.length && this.outbox[n]!.seq <= durable) n++;
    if (n === 0) return;
    for (const item of this.outbox.splice(0, n)) {
      const view = this.orderView(item.order);
      if (item.fill) {
        const inst = this.instruments.get(item.order.symbol)!;
        this.metrics.fills.inc({ symbol: item.order.symbol });
        this.events.publish('fill', {
          orderId: item.order.orderId,
          clientOrderId: item.order.clientOrderId,
          symbol: item.order.symbol,
          side: item.order.side,
          quantity: formatQtyOf(inst, item.fill.quantity),
          price: formatPriceOf(inst, item.fill.price),
          ...(item.fill.commission && {
            commission: {
              asset: item.fill.commission.asset,
              amount: formatScaled(item.fill.commission.amount, COMMISSION_DECIMALS),
            },
          }),
          strategy: item.order.strategy,
          sequence: item.seq,
        });
      }
      this.events.publish('order', view);
      for (const l of this.orderListeners) l(item.order);
    }
  }

  private execute(order: Order | undefined, events: ExecEvent[]): void {
    for (const ev of events) {
      const o = order && order.orderId === ev.orderId ? order : this.state.orders.get(ev.orderId);
      if (!o) continue;
      try {
        if (ev.kind === 'fill') {
          this.commit({
            type: RecordType.OrderFill,
            data: {
              orderId: ev.orderId,
              quantity: ev.qty,
              price: ev.price,
              tradeId: this.state.nextTradeId,
            },
          });
        } else if (ev.kind === 'accepted') {
          this.commit({
            type: RecordType.OrderUpdate,
            data: { orderId: ev.orderId, status: 'ACCEPTED', reason: '', exchangeOrderId: '' },
          });
        } else {
          this.commit({
            type: RecordType.OrderUpdate,
            data: { orderId: ev.orderId, status: 'EXPIRED', reason: ev.reason, exchangeOrderId: '' },
          });
        }
      } catch (err) {
        if (err instanceof UnavailableError) throw err;
        // A matcher event the state refuses means the two disagree: drop the order from the
        // simulated queue rather than keep matching it.
        this.log.error({ err, event: ev }, 'execution event rejected by the order state');
        this.matcher.remove(o.symbol, o.orderId);
      }
    }
  }

  private exposure(symbol: string, strategy = ''): Exposure {
    const open = this.state.openQuantity(strategy, symbol);
    return {
      openOrders: this.state.open.size,
      position: this.state.findPosition(strategy, symbol)?.net ?? 0,
      openBuy: open.buy,
      openSell: open.sell,
    };
  }

  /** Exposure of one strategy (its own position and open orders). */
  strategyExposure(strategy: string, symbol: string): Exposure {
    return this.exposure(symbol, strategy);
  }

  /**
   * The synchronous part of placing an order: validation, idempotency, risk, WAL append and
   * simulated execution. The order is not acknowledged until waitDurable(order.lastSequence).
   */
  placeOrderNow(
    req: PlaceOrderRequest,
    strategy = '',
    extraCheck?: (p: ReturnType<typeof parseOrderRequest>) => void,
  ): PlaceResult {
    if (!this.accepting)
      throw new UnavailableError('the engine is not accepting orders (starting or shutting down)');
    if (this.wal.failed) throw new UnavailableError(this.wal.failed.message);
    const fenced = this.fence();
    if (fenced !== undefined) throw new FencedError(`fenced: no new orders: ${fenced}`);
    const p = parseOrderRequest(req, this.instruments);
    if (p.clientOrderId !== undefined) {
      const existing = this.findByClientId(p.clientOrderId);
      if (existing) return { order: existing, created: false };
    }
    const q = this.matcher.quote(p.instrument.symbol);
    const refPrice =
      p.type === 'LIMIT' ? p.price : p.side === 'BUY' ? (q?.asks[0]?.price ?? 0) : (q?.bids[0]?.price ?? 0);
    try {
      extraCheck?.(p);
      this.risk.check(
        { instrument: p.instrument, side: p.side, quantity: p.quantity, price: refPrice },
        this.exposure(p.instrument.symbol),
      );
    } catch (err) {
      if (err instanceof RiskRejection) this.metrics.rejections.inc({ reason: err.reason });
      throw err;
    }
    const orderId = this.state.nextOrderId;
    const order = this.commit({
      type: RecordType.OrderNew,
      data: {
        orderId,
        clientOrderId: p.clientOrderId ?? `${GENERATED_ID_PREFIX}${orderId}`,
        symbol: p.instrument.symbol,
        side: p.side,
        type: p.type,
        timeInForce: p.timeInForce,
        price: p.price,
        quantity: p.quantity,
        strategy,
        ...(this.deskPair && {
          exchangeClientOrderId: formatClientOrderId({
            ...this.deskPair,
            strategy,
            orderId,
            createdAt: this.now(),
          }),
        }),
      },
    });
    this.venue.submit(order);
    return { order, created: true };
  }

  /**
   * Places an order and answers once it is durable. The answer is a snapshot taken before the
   * wait: by the time the wait ends, later records (a fill from the market) may have changed the
   * order without being durable yet, and an answer must never show what a crash could lose.
   */
  async placeOrder(req: PlaceOrderRequest): Promise<{ view: OrderView; created: boolean }> {
    const t0 = performance.now();
    const res = this.placeOrderNow(req);
    const view = this.orderView(res.order);
    await this.wal.waitDurable(view.lastSequence);
    if (res.created) this.metrics.orderLatency.observe((performance.now() - t0) / 1000);
    return { view, created: res.created };
  }

  /**
   * The order with this clientOrderId while it is inside the idempotency window; a ConflictError
   * for one placed before the window (a retry that late is refused, never placed again);
   * undefined for an id not in use.
   */
  findByClientId(clientOrderId: string): Order | undefined {
    const now = this.now();
    const id = this.state.byClientId.get(clientOrderId);
    const o = id === undefined ? undefined : this.state.orders.get(id);
    const seen = o ?? this.state.forgotten.get(clientOrderId);
    if (!seen) return undefined;
    if (o && (o.strategy !== '' || this.state.inWindow(o.createdAt, now))) return o;
    throw new ConflictError(
      `clientOrderId ${clientOrderId} was used by order ${seen.orderId} created ${new Date(seen.createdAt).toISOString()}, ` +
        `before the idempotency window (VELOZ_IDEMPOTENCY_WINDOW=${this.config.idempotencyWindow} s): ` +
        'a retry this late is refused so that the order is never placed twice; use a new clientOrderId',
    );
  }

  cancelOrderNow(orderId: number, reason: string): Order {
    const o = this.state.orders.get(orderId);
    if (!o) throw new NotFoundError(`order ${orderId} not found`);
    if (isTerminal(o.status)) throw new ConflictError(`order ${orderId} is already ${o.status}`);
    return this.venue.cancel(o, reason);
  }

  /** Cancels and answers with the order as of its cancel, once that is durable (see placeOrder). */
  async cancelOrder(orderId: number, reason = 'canceled by request'): Promise<OrderView> {
    if (this.wal.failed) throw new UnavailableError(this.wal.failed.message);
    const view = this.orderView(this.cancelOrderNow(orderId, reason));
    await this.wal.waitDurable(view.lastSequence);
    return view;
  }

  /**
   * A consistent, durable read: `fn` runs now, against the state as of the last applied record,
   * and its result is returned once that record is durable. `fn` must copy what it returns.
   */
  async durable<T>(fn: () => T): Promise<T> {
    const seq = this.state.lastSequence;
    const value = fn();
    await this.wal.waitDurable(seq);
    return value;
  }

  async waitDurable(seq: number): Promise<void> {
    await this.wal.waitDurable(seq);
  }

  /** A checkpoint asked for by a caller: at most one per VELOZ_WAL_CHECKPOINT_MIN_INTERVAL. */
  async requestCheckpoint(): Promise<number> {
    const now = this.now();
    const wait = this.lastRequestedCheckpoint + this.config.walCheckpointMinInterval * 1000 - now;
    if (wait > 0)
      throw new TooSoonError(
        `a checkpoint was written ${Math.round((now - this.lastRequestedCheckpoint) / 1000)} s ago; ` +
          `VELOZ_WAL_CHECKPOINT_MIN_INTERVAL allows one every ${this.config.walCheckpointMinInterval} s`,
        wait,
      );
    // Taken before the write, so that concurrent requests cannot all pass; a failed write does
    // not count.
    const before = this.lastRequestedCheckpoint;
    this.lastRequestedCheckpoint = now;
    try {
      return await this.checkpoint();
    } catch (err) {
      this.lastRequestedCheckpoint = before;
      throw err;
    }
  }

  async checkpoint(): Promise<number> {
    // Built off the order path like an interval checkpoint: orders go on meanwhile.
    const seq = await this.wal.requestCheckpoint();
    await this.wal.waitDurable(seq);
    return seq;
  }

  /** A consistent set of open WAL files for GET /api/wal/backup, after a fresh checkpoint. */
  walSnapshot(checkpoint = true): Promise<WalSnapshot> {
    return this.wal.snapshot({ checkpoint });
  }

  /** Deployment and pair (as WAL shipping names them) and the WAL's id. */
  identity(): EngineIdentity {
    return { ...deploymentPair(this.config), walId: this.recovered.mark.walId };
  }

  walStatus() {
    return {
      identity: this.identity(),
      dir: this.config.walDir,
      lastSequence: this.wal.lastSequence,
      durableSequence: this.wal.durableSequence,
      sync: this.config.walSync,
      maxSizeBytes: this.config.walMaxSize,
      maxFiles: this.config.walMaxFiles,
      checkpointInterval: this.config.walCheckpointInterval,
      recovery: {
        mode: this.config.walRecoveryMode,
        replayedEntries: this.recovered.replayedEntries,
        replaySeconds: this.replaySeconds,
        corruptRecords: this.recovered.report.corruptRecords,
        tornTailBytes: this.recovered.report.tornTailBytes,
        actions: this.recovered.report.actions,
        sequenceJump: this.recovered.jump && {
          after: this.recovered.jump.previous,
          continuesAt: this.recovered.jump.seq,
          lost: this.recovered.jump.lost,
        },
      },
      lastCheckpoint: this.lastCheckpoint && {
        sequence: this.lastCheckpoint.sequence,
        time: new Date(this.lastCheckpoint.timestamp).toISOString(),
      },
      healthy: this.wal.failed === null,
      error: this.wal.failed?.message ?? null,
    };
  }

  /**
   * Self-fencing: while `why` answers a reason, new orders (API and strategies alike) are refused
   * with 503 and /ready says why; cancels and everything the exchange reports go on.
   */
  setFence(why: () => string | undefined): void {
    this.fence = why;
  }

  readiness(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (!this.accepting) reasons.push('not accepting orders');
    if (this.wal.failed) reasons.push(this.wal.failed.message);
    const fenced = this.fence();
    if (fenced !== undefined) reasons.push(`fenced: ${fenced}`);
    for (const sym of this.instruments.keys())
      if (!this.matcher.quote(sym)) reasons.push(`no market data for ${sym}`);
    reasons.push(...(this.feed?.readiness() ?? []), ...this.venue.readiness());
    return { ready: reasons.length === 0, reasons };
  }

  updateReady(): void {
    this.metrics.ready.set(this.readiness().ready ? 1 : 0);
    this.metrics.walUp.set(this.wal.failed ? 0 : 1);
    this.metrics.walUnavailable.set(this.wal.failed ? 1 : 0);
  }

  /** Halts every new order; answers once the halt is durable, so it survives a restart. */
  async halt(reason: string): Promise<void> {
    await this.recordTrading({ halted: true, reason });
    this.events.publish('system', { halted: true, reason });
  }

  /** Resumes trading after a halt, durably; `reason` is kept in the WAL. */
  async resume(reason = ''): Promise<void> {
    await this.recordTrading({ halted: false, reason });
    this.events.publish('system', { halted: false });
  }

  // The halt takes effect at once (no order may slip in while the record is being synced); the
  // answer waits until it is durable.
  private async recordTrading(p: { halted: boolean; reason: string }): Promise<void> {
    if (this.wal.failed) throw new UnavailableError(this.wal.failed.message);
    const now = this.now();
    const seq = this.wal.append(RecordType.TradingHalt, encodeTradingHalt(p), now);
    this.state.applyTrading(p, seq);
    this.risk.halted = p.halted;
    this.risk.haltReason = p.halted ? p.reason : '';
    await this.wal.waitDurable(seq);
  }

  /**
   * Records a strategy's guardrail halt or its resume. It holds in the state at once (the caller
   * cancels the orders next); the returned sequence is durable after waitDurable.
   */
  recordStrategyHalt(p: StrategyHaltPayload): number {
    if (this.wal.failed) throw new UnavailableError(this.wal.failed.message);
    const now = this.now();
    const seq = this.wal.append(RecordType.StrategyHalt, encodeStrategyHalt(p), now);
    this.state.applyStrategyHalt(p, seq, now);
    return seq;
  }

  /** The engine's clock (milliseconds since the epoch), injectable for tests. */
  clock(): number {
    return this.now();
  }

  /** The venue's last reconciliation with the exchange; not enabled on the simulated venue. */
  reconciliation(): Reconciliation {
    return (
      this.venue.reconciliation?.() ?? {
        enabled: false,
        intervalMs: 0,
        runs: 0,
        lastRun: null,
        inSync: true,
        halted: false,
        found: [],
        repaired: [],
        open: [],
      }
    );
  }

  orderView(o: Order): OrderView {
    return orderView(this.instruments.get(o.symbol) ?? defaultInstrument(o.symbol), o);
  }

  /** Stops intake, writes out what is queued, and closes the WAL. */
  async close(): Promise<void> {
    this.accepting = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.feed?.close();
    // In-flight exchange requests are finished and recorded before the WAL closes.
    await this.venue.close();
    await this.shipper?.stop();
    await this.wal.close();
    this.updateReady();
  }
}

/** An order as the HTTP API answers it. */
export type OrderView = OrderAnswer;

export function orderView(inst: Instrument, o: Order): OrderView {
  const avg =
    o.filledQuantity > 0
      ? formatPriceOf(inst, Number(o.filledNotional / BigInt(o.filledQuantity)))
      : formatPriceOf(inst, 0);
  return {
    orderId: o.orderId,
    clientOrderId: o.clientOrderId,
    symbol: o.symbol,
    side: o.side,
    type: o.type,
    timeInForce: o.timeInForce,
    status: o.status,
    quantity: formatQtyOf(inst, o.quantity),
    price: formatPriceOf(inst, o.price),
    filledQuantity: formatQtyOf(inst, o.filledQuantity),
    avgPrice: avg,
    strategy: o.strategy,
    reason: o.reason,
    exchangeOrderId: o.exchangeOrderId,
    exchangeClientOrderId: exchangeClientOrderId(o),
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
    lastSequence: o.lastSequence,
  };
}

export { InputError, RiskRejection };
