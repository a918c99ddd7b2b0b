// Binance market data by REST polling (VELOZ_MARKET_SOURCE=binance_rest): five levels of depth
// and the trades since the previous poll, per symbol, every VELOZ_BINANCE_POLL_INTERVAL, or less
// often when the host's request-weight budget (weight-budget.ts) cannot pay for that rate.
import type { Logger } from 'pino';
import type { Instrument } from '../domain/instrument.ts';
import { BinanceApiError, BinanceUnknownError, type BinanceRest } from '../exchange/binance-rest.ts';
import { parse } from '../exchange/binance-answers.ts';
import type { BinancePublicTrade } from '../exchange/binance-types.ts';
import { exchangeUnits } from '../exchange/filters.ts';
import type { ExchangeMetrics } from '../exchange/metrics.ts';
import { MARKET_POLL_WEIGHT } from '../exchange/request-weights.ts';
import type { WeightBudget } from '../exchange/weight-budget.ts';
import type { FeedSink, MarketFeed } from '../exchange/venue.ts';
import type { Level } from './book.ts';
import { TradeSequence } from './binance-ws.ts';

const TRADES_LIMIT = 100;

export interface BinanceRestFeedOptions {
  rest: BinanceRest;
  instruments: Instrument[];
  pollIntervalMs: number;
  /** The host's weight budget: polls are spaced so that market data stays within its share. */
  budget?: WeightBudget;
  sink: FeedSink;
  log: Logger;
  metrics: ExchangeMetrics;
}

export class BinanceRestFeed implements MarketFeed {
  private readonly o: BinanceRestFeedOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly lastOk = new Map<string, number>();
  private readonly trades = new TradeSequence();
  private seq = 0;
  private failing = false;
  private closed = false;

  constructor(opts: BinanceRestFeedOptions) {
    this.o = opts;
  }

  start(): void {
    this.tick();
  }

  /** The poll interval the budget allows: VELOZ_BINANCE_POLL_INTERVAL or longer. */
  get intervalMs(): number {
    const cycle = MARKET_POLL_WEIGHT * this.o.instruments.length;
    return Math.max(this.o.pollIntervalMs, this.o.budget?.minIntervalMs(cycle, 'market') ?? 0);
  }

  readiness(): string[] {
    const stale = 5 * this.intervalMs + 1000;
    const now = Date.now();
    return this.o.instruments
      .filter((i) => now - (this.lastOk.get(i.symbol) ?? 0) > stale)
      .map((i) => `market data polling for ${i.symbol} is failing`);
  }

  private tick(): void {
    if (this.closed) return;
    const started = Date.now();
    this.running = this.pollAll()
      .catch((err: unknown) => this.o.log.error({ err }, 'market data poll failed unexpectedly'))
      .finally(() => {
        this.running = undefined;
        if (this.closed) return;
        this.timer = setTimeout(() => this.tick(), Math.max(0, started + this.intervalMs - Date.now()));
        this.timer.unref();
      });
  }

  private async pollAll(): Promise<void> {
    for (const inst of this.o.instruments) {
      try {
        await this.poll(inst);
        this.lastOk.set(inst.symbol, Date.now());
        if (this.failing) this.o.log.info('market data polling recovered');
        this.failing = false;
      } catch (err) {
        if (!(err instanceof BinanceApiError || err instanceof BinanceUnknownError)) throw err;
        if (!this.failing)
          this.o.log.warn({ err: err.message, symbol: inst.symbol }, 'market data poll failed');
        this.failing = true;
      }
    }
  }

  private async poll(inst: Instrument): Promise<void> {
    const [depth, recent] = await Promise.all([
      this.o.rest.public('/api/v3/depth', { symbol: inst.symbol, limit: 5 }, parse.depth),
      this.o.rest.public('/api/v3/trades', { symbol: inst.symbol, limit: TRADES_LIMIT }, parse.publicTrades),
    ]);
    const first = this.trades.lastId(inst.symbol) === undefined;
    const fresh: BinancePublicTrade[] = [];
    for (const t of [...recent].sort((a, b) => a.id - b.id)) {
      const missed = this.trades.next(inst.symbol, t.id);
      if (missed < 0) continue;
      if (missed > 0 && !first) {
        this.o.metrics.gaps.inc({ symbol: inst.symbol });
        this.o.metrics.missedTrades.inc({ symbol: inst.symbol }, missed);
        this.o.log.warn(
          { symbol: inst.symbol, missed },
          'gap in polled trades: more trades than one poll returns',
        );
        this.o.sink.event('system', {
          marketDataGap: {
            symbol: inst.symbol,
            afterTradeId: t.id - missed - 1,
            nextTradeId: t.id,
            missedTrades: missed,
          },
        });
      }
      // The first poll only learns where the trade ids are; those trades are history.
      if (!first) fresh.push(t);
    }
    const levels = (rows: Array<[string, string]>): Level[] =>
      rows.map(([p, q]) => ({
        price: exchangeUnits(p, inst.priceDecimals),
        qty: exchangeUnits(q, inst.qtyDecimals),
      }));
    this.o.sink.quote({
      symbol: inst.symbol,
      bids: levels(depth.bids),
      asks: levels(depth.asks),
      trades: fresh.map((t) => ({
        price: exchangeUnits(t.price, inst.priceDecimals),
        qty: exchangeUnits(t.qty, inst.qtyDecimals),
        side: t.isBuyerMaker ? 'SELL' : 'BUY',
      })),
      seq: ++this.seq,
      time: Date.now(),
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
