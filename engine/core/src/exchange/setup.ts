// Connects the engine to Binance at start: exchange info (filters) for the configured symbols,
// the clock offset, and the venue and market feed the configuration asks for.
import type { Logger } from 'pino';
import { binanceCredentials, type Config } from '@veloz/api/variables';
import type { Instrument } from '../domain/instrument.ts';
import { BinanceRestFeed } from '../market/binance-rest-feed.ts';
import { BinanceWsFeed } from '../market/binance-ws.ts';
import type { EngineMetrics } from '../metrics/engine-metrics.ts';
import { BinanceApiError, BinanceRest, BinanceUnknownError } from './binance-rest.ts';
import type { BinanceExchangeInfo } from './binance-types.ts';
import { BinanceVenue } from './binance-venue.ts';
import { instrumentFromExchangeInfo } from './filters.ts';
import { createExchangeMetrics } from './metrics.ts';
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
      if (!(err instanceof BinanceUnknownError) || attempt >= 3) throw err;
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
  const tradeRest = trading
    ? new BinanceRest({
        ...common,
        baseUrl: c.binanceTradeBaseUrl,
        apiKey: creds.apiKey,
        apiSecret: creds.apiSecret,
      })
    : undefined;
  const marketRest = new BinanceRest({ ...common, baseUrl: c.binanceBaseUrl });
  // The venue's filters are the ones that bind (the testnet's differ from the live exchange's).
  const infoRest = tradeRest ?? marketRest;
  let info: BinanceExchangeInfo;
  try {
    info = await retrying(log, 'exchange info', () =>
      infoRest.public<BinanceExchangeInfo>('/api/v3/exchangeInfo', { symbols: JSON.stringify(symbols) }),
    );
  } catch (err) {
    if (err instanceof BinanceApiError || err instanceof BinanceUnknownError)
      throw new Error(`cannot read Binance exchange info for ${symbols.join(', ')}: ${err.message}`);
    throw err;
  }
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
  return {
    instruments,
    createVenue: tradeRest
      ? (host) =>
          new BinanceVenue({
            rest: tradeRest,
            host,
            metrics: m,
            pollIntervalMs: c.binancePollInterval,
            maxBackoffMs: c.binanceMaxBackoff,
          })
      : undefined,
    createFeed:
      c.marketSource === 'binance_ws'
        ? (sink) =>
            new BinanceWsFeed({
              baseUrl: c.binanceWsBaseUrl,
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
                sink,
                log,
                metrics: m,
              })
          : undefined,
  };
}
