// Connects the engine to Binance at start: exchange info (filters and status) for the configured
// symbols, the clock offset, and the venue and market feed the configuration asks for. The URLs
// follow the execution mode (binanceUrls): testnet mode never reaches the live exchange.
import type { Logger } from 'pino';
import { binanceCredentials, binanceUrls, type Config } from '@veloz/api/variables';
import type { Instrument } from '../domain/instrument.ts';
import { BinanceRestFeed } from '../market/binance-rest-feed.ts';
import { BinanceWsFeed } from '../market/binance-ws.ts';
import type { EngineMetrics } from '../metrics/engine-metrics.ts';
import { parse } from './binance-answers.ts';
import { ERR } from './binance-errors.ts';
import { BinanceApiError, BinanceRest, outcomeOf } from './binance-rest.ts';
import type { BinanceExchangeInfo } from './binance-types.ts';
import { BinanceVenue, ownOrders } from './binance-venue.ts';
import { deskPair } from '../engine/desk-pair.ts';
import { instrumentFromExchangeInfo, notTrading } from './filters.ts';
import { StreamingBinanceVenue } from './streaming-venue.ts';
import { WeightBudgets } from './weight-budget.ts';
import { createExchangeMetrics } from './metrics.ts';
import { Reconciler, withReconciliation } from './reconciler.ts';
import type { ExecutionVenue, FeedSink, MarketFeed, VenueHost } from './venue.ts';

export interface ExchangeSetup {
  instruments: Map<string, Instrument>;
  createVenue: ((host: VenueHost) => ExecutionVenue) | undefined;
  createFeed: ((sink: FeedSink) => MarketFeed) | undefined;
}

async function retrying<T>(log: Logger, what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const outcome = outcomeOf(err);
      if ((outcome !== 'unknown' && outcome !== 'retryable') || !(err instanceof Error) || attempt >= 3)
        throw err;
      log.warn({ err: err.message, attempt }, `${what} failed; retrying`);
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

export async function setupExchange(
  c: Config,
  log: Logger,
  metrics: EngineMetrics,
  symbols: string[],
): Promise<ExchangeSetup> {
  const m = createExchangeMetrics(metrics.registry);
  const hooks = {
    onRequest: (endpoint: string, status: string) => m.requests.inc({ endpoint, status }),
    onBackoff: (reason: string) => m.backoffs.inc({ reason }),
    onUsedWeight: (w: number) => m.usedWeight.set(w),
  };
  const common = {
    recvWindow: c.binanceRecvWindow,
    timeoutMs: c.binanceRequestTimeout,
    maxBackoffMs: c.binanceMaxBackoff,
    log,
    hooks,
  };
  const trading = c.executionMode !== 'sim_engine';
  const creds = binanceCredentials(c);
  const urls = binanceUrls(c);
  // One weight budget per host, on the exchange clock once the trading client has measured it.
  let exchangeNow = Date.now;
  const budgets = new WeightBudgets({
    now: () => exchangeNow(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  });
  const tradeRest = trading
    ? new BinanceRest({
        ...common,
        baseUrl: urls.trade,
        apiKey: creds.apiKey,
        apiSecret: creds.apiSecret,
        budget: budgets.for(urls.trade),
        lane: 'trading',
      })
    : undefined;
  if (tradeRest) exchangeNow = () => tradeRest.serverNow();
  const marketRest = new BinanceRest({
    ...common,
    baseUrl: urls.rest,
    budget: budgets.for(urls.rest),
    lane: 'market',
  });
  // The venue's filters are the ones that bind (the testnet's differ from the live exchange's).
  const infoRest = tradeRest ?? marketRest;
  const exchangeInfo = (names: string[]) =>
    retrying(log, 'exchange info', () =>
      infoRest.public('/api/v3/exchangeInfo', { symbols: JSON.stringify(names) }, parse.exchangeInfo),
    );
  let info: BinanceExchangeInfo;
  try {
    info = await exchangeInfo(symbols);
  } catch (err) {
    if (err instanceof BinanceApiError && err.code === ERR.BAD_SYMBOL)
      throw new Error(
        `Binance does not list ${(await unlisted(symbols, exchangeInfo)).join(', ')} (check VELOZ_MARKET_SYMBOL and VELOZ_SYMBOLS)`,
      );
    if (outcomeOf(err) && err instanceof Error)
      throw new Error(`cannot read Binance exchange info for ${symbols.join(', ')}: ${err.message}`);
    throw err;
  }
  budgets.setLimits(info.rateLimits);
  const halted = info.symbols.filter((s) => symbols.includes(s.symbol)).map(notTrading);
  if (halted.some(Boolean))
    throw new Error(
      `${halted.filter(Boolean).join('; ')}: the engine trades only symbols whose status is TRADING (check VELOZ_MARKET_SYMBOL and VELOZ_SYMBOLS)`,
    );
  const instruments = new Map<string, Instrument>();
  for (const s of info.symbols)
    if (symbols.includes(s.symbol)) instruments.set(s.symbol, instrumentFromExchangeInfo(s));
  const missing = symbols.filter((s) => !instruments.has(s));
  if (missing.length > 0)
    throw new Error(
      `Binance does not list ${missing.join(', ')} (check VELOZ_MARKET_SYMBOL and VELOZ_SYMBOLS)`,
    );
  for (const i of instruments.values())
    log.info(
      {
        symbol: i.symbol,
        priceDecimals: i.priceDecimals,
        tickSize: i.tickSize,
        qtyDecimals: i.qtyDecimals,
        stepSize: i.stepSize,
        minQty: i.minQty,
        minNotional: String(i.minNotional),
      },
      'exchange filters loaded',
    );
  if (tradeRest) {
    await retrying(log, 'server time', () => tradeRest.syncTime());
    log.info({ offsetMs: tradeRest.timeOffsetMs, mode: c.executionMode }, 'Binance clock offset measured');
  }
  const list = [...instruments.values()];
  const ours = ownOrders(deskPair(c));
  log.info(
    { desk: c.deskId ?? null },
    c.deskId === undefined
      ? "no VELOZ_DESK_ID: orders get veloz-<n>-… ids and every such id on the account counts as this engine's"
      : 'client order ids name this desk and pair: only those are adopted or canceled',
  );
  return {
    instruments,
    createVenue: tradeRest
      ? (host) => {
          const opts = {
            rest: tradeRest,
            host,
            metrics: m,
            pollIntervalMs: c.binancePollInterval,
            maxBackoffMs: c.binanceMaxBackoff,
            acceptanceMarginMs: c.binanceAcceptanceMargin,
            ours,
          };
          const venue =
            !c.binanceUserStream || !creds.apiKey || !creds.apiSecret
              ? new BinanceVenue(opts)
              : new StreamingBinanceVenue(opts, {
                  url: urls.wsApi,
                  apiKey: creds.apiKey,
                  apiSecret: creds.apiSecret,
                  clock: tradeRest,
                  maxAgeMs: c.binanceUserStreamMaxAge,
                  reconnectDelayMs: c.wsReconnectDelay,
                });
          const reconciler = new Reconciler({
            rest: tradeRest,
            host,
            venue,
            metrics: m,
            intervalMs: c.reconcileInterval,
            ours,
          });
          return withReconciliation(venue, reconciler);
        }
      : undefined,
    createFeed:
      c.marketSource === 'binance_ws'
        ? (sink) =>
            new BinanceWsFeed({
              baseUrl: urls.ws,
              instruments: list,
              reconnectDelayMs: c.wsReconnectDelay,
              sink,
              log,
              metrics: m,
              disconnects: metrics.wsDisconnects,
            })
        : c.marketSource === 'binance_rest'
          ? (sink) =>
              new BinanceRestFeed({
                rest: marketRest,
                instruments: list,
                pollIntervalMs: c.binancePollInterval,
                budget: budgets.for(urls.rest),
                sink,
                log,
                metrics: m,
              })
          : undefined,
  };
}

/** The symbols Binance answers -1121 (invalid symbol) for, asked one by one. */
async function unlisted(
  symbols: string[],
  exchangeInfo: (names: string[]) => Promise<BinanceExchangeInfo>,
): Promise<string[]> {
  const out: string[] = [];
  for (const s of symbols) {
    try {
      await exchangeInfo([s]);
    } catch (err) {
      if (!(err instanceof BinanceApiError && err.code === ERR.BAD_SYMBOL)) throw err;
      out.push(s);
    }
  }
  return out;
}
