// `veloz exchange check`: whether the configured Binance account and hosts can carry the engine,
// asked of the exchange itself with the engine's own configuration (the VELOZ_* variables) and
// clients. Opt-in: it needs the network and keys. On the testnet it also trades: a resting order
// placed, queried and canceled, and a small IOC whose fills show the commission. Nothing here
// writes a WAL; the orders carry `veloz-check-` client ids, never an engine's.
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { binanceCredentials, binanceUrls, type Config } from '@veloz/api/variables';
import { binanceEnvironment, environmentOfMode } from '@veloz/api/binance-hosts';
import { formatPrice, formatQty, type Instrument } from '../domain/instrument.ts';
import { parse } from './binance-answers.ts';
import { BinanceRest } from './binance-rest.ts';
import type { BinanceExchangeInfo, BinanceOrder } from './binance-types.ts';
import { exchangeUnits, instrumentFromExchangeInfo, notTrading } from './filters.ts';
import { MARKET_POLL_WEIGHT, requestWeight } from './request-weights.ts';
import { BinanceUserStream, type StreamReport } from './user-stream.ts';
import { MARKET_SHARE, TRADING_SHARE, WeightBudget } from './weight-budget.ts';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
}

export interface CheckOptions {
  config: Config;
  log: Logger;
  /** How long to wait for the stream's subscription and its events (default 5 s). */
  streamWaitMs?: number;
}

/** What market data and the trading fallback poll cost per minute against the tightest limit. */
export function weightPlan(p: {
  symbols: number;
  pollIntervalMs: number;
  marketSource: string;
  limits: ReadonlyArray<{ windowMs: number; limit: number }>;
}): { status: CheckStatus; detail: string } {
  const perMinute = Math.min(...p.limits.map((l) => (l.limit * 60_000) / l.windowMs));
  if (!Number.isFinite(perMinute))
    return { status: 'warn', detail: 'exchangeInfo states no REQUEST_WEIGHT limit' };
  const polls = 60_000 / p.pollIntervalMs;
  const market = p.marketSource === 'binance_rest' ? Math.ceil(p.symbols * MARKET_POLL_WEIGHT * polls) : 0;
  // With the user data stream down, open orders are polled per symbol every interval.
  const fallback = Math.ceil(p.symbols * requestWeight('GET', '/api/v3/openOrders', { symbol: 'X' }) * polls);
  const marketShare = Math.floor(perMinute * MARKET_SHARE);
  const tradingShare = Math.floor(perMinute * TRADING_SHARE);
  const parts = [
    `limit ${Math.floor(perMinute)} weight/min`,
    `REST market data ${market}/min (share ${marketShare})`,
    `order polling without the stream ${fallback}/min`,
  ];
  if (market > marketShare) {
    const slower = Math.ceil((p.symbols * MARKET_POLL_WEIGHT * 60_000) / marketShare);
    parts.push(
      `market data will poll every ${slower} ms instead of ${p.pollIntervalMs} ms (raise VELOZ_BINANCE_POLL_INTERVAL, use binance_ws or fewer symbols)`,
    );
    return { status: 'warn', detail: parts.join('; ') };
  }
  if (market + fallback > tradingShare) {
    parts.push(
      'while the user data stream is down, order polling and market data exceed the budget and wait',
    );
    return { status: 'warn', detail: parts.join('; ') };
  }
  return { status: 'pass', detail: parts.join('; ') };
}

const CHECK_PREFIX = 'veloz-check-';

export async function checkExchange(opts: CheckOptions): Promise<CheckResult[]> {
  const c = opts.config;
  const out: CheckResult[] = [];
  const add = (name: string, status: CheckStatus, detail: string) => out.push({ name, status, detail });
  const env = environmentOfMode(c.executionMode);
  if (!env) {
    add(
      'mode',
      'fail',
      `VELOZ_EXECUTION_MODE=${c.executionMode} does not trade on Binance: nothing to check`,
    );
    return out;
  }
  const urls = binanceUrls(c);
  const creds = binanceCredentials(c);
  // loadConfig already refused a host of the other environment; say what each URL is.
  add(
    'hosts',
    'pass',
    Object.entries(urls)
      .map(([k, u]) => `${k} ${u} (${binanceEnvironment(u) ?? 'not a Binance host: a proxy or a fake'})`)
      .join('; ') + ` for ${c.executionMode}`,
  );
  let offset = 0;
  const budget = new WeightBudget({
    now: () => Date.now() + offset,
    sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  });
  const rest = new BinanceRest({
    baseUrl: urls.trade,
    apiKey: creds.apiKey,
    apiSecret: creds.apiSecret,
    recvWindow: c.binanceRecvWindow,
    timeoutMs: c.binanceRequestTimeout,
    maxBackoffMs: c.binanceMaxBackoff,
    log: opts.log,
    budget,
  });
  const step = async (name: string, fn: () => Promise<[CheckStatus, string]>): Promise<boolean> => {
    try {
      const [status, detail] = await fn();
      add(name, status, detail);
      return status !== 'fail';
    } catch (err) {
      add(name, 'fail', err instanceof Error ? err.message : String(err));
      return false;
    }
  };

  if (
    !(await step(
      'ping',
      async () => (await rest.public('/api/v3/ping', {}, parse.any), ['pass', urls.trade]),
    ))
  )
    return out;

  await step('clock', async () => {
    const t0 = Date.now();
    await rest.syncTime();
    const rtt = Date.now() - t0;
    const off = (offset = rest.timeOffsetMs);
    const detail = `offset ${off} ms (the engine corrects for it), round trip ${rtt} ms, recvWindow ${c.binanceRecvWindow} ms`;
    if (rtt >= c.binanceRecvWindow) return ['fail', `${detail}: requests cannot arrive within recvWindow`];
    // Before its first sync, a clock more than 1 s ahead of the exchange's is refused (-1021).
    if (Math.abs(off) > Math.min(1000, c.binanceRecvWindow / 2))
      return ['warn', `${detail}: synchronise this host's clock (NTP)`];
    return ['pass', detail];
  });

  const symbols = [c.marketSymbol, ...c.symbols.filter((s) => s !== c.marketSymbol)];
  let info: BinanceExchangeInfo | undefined;
  const instruments = new Map<string, Instrument>();
  await step('symbols', async () => {
    const got = await rest.public(
      '/api/v3/exchangeInfo',
      { symbols: JSON.stringify(symbols) },
      parse.exchangeInfo,
    );
    info = got;
    budget.setLimits(got.rateLimits);
    const problems: string[] = [];
    const seen: string[] = [];
    for (const s of got.symbols) {
      const halted = notTrading(s);
      if (halted) {
        problems.push(halted);
        continue;
      }
      const i = instrumentFromExchangeInfo(s);
      instruments.set(s.symbol, i);
      seen.push(
        `${s.symbol} TRADING tick ${formatPrice(i, Math.max(i.tickSize, 1))} step ${formatQty(i, i.stepSize)} minQty ${formatQty(i, i.minQty)}`,
      );
    }
    for (const s of symbols)
      if (!got.symbols.some((x) => x.symbol === s)) problems.push(`${s} is not listed`);
    return problems.length > 0 ? ['fail', problems.join('; ')] : ['pass', seen.join('; ')];
  });

  const canSign = await step('permissions', async () => {
    if (!creds.apiKey || !creds.apiSecret)
      return [
        'fail',
        'VELOZ_BINANCE_API_KEY and VELOZ_BINANCE_API_SECRET (or their _FILE variables) are needed',
      ];
    const acct = await rest.signed('GET', '/api/v3/account', { omitZeroBalances: 'true' }, parse.account);
    if (!acct.canTrade)
      return ['fail', 'the API key cannot trade (canTrade is false): enable Spot trading for it'];
    return ['pass', `canTrade; ${acct.balances.length} non-zero balances`];
  });

  const first = instruments.get(symbols[0]!);
  const book = first
    ? await rest
        .public('/api/v3/depth', { symbol: first.symbol, limit: 5 }, parse.depth)
        .catch(() => undefined)
    : undefined;
  const bid = book?.bids[0] && first ? exchangeUnits(book.bids[0][0], first.priceDecimals) : 0;
  const ask = book?.asks[0] && first ? exchangeUnits(book.asks[0][0], first.priceDecimals) : 0;
  const ready = canSign && first && bid > 0 && ask > 0;
  // A resting buy well below the market: valid for the filters, never filled in the check.
  const restingPrice = first ? roundDown(Math.floor(bid * 0.9), Math.max(first.tickSize, 1)) : 0;
  const qtyFor = (i: Instrument, price: number) => {
    const need = price > 0 ? Number((i.minNotional + BigInt(price) - 1n) / BigInt(price)) : i.minQty;
    return roundUp(Math.max(i.minQty, Math.ceil(need * 1.1)), Math.max(i.stepSize, 1));
  };

  if (!ready) add('order/test', 'skip', 'needs the symbols, the permissions and a book for the first symbol');
  else
    await step('order/test', async () => {
      await rest.signed(
        'POST',
        '/api/v3/order/test',
        {
          symbol: first.symbol,
          side: 'BUY',
          type: 'LIMIT',
          timeInForce: 'GTC',
          price: formatPrice(first, restingPrice),
          quantity: formatQty(first, qtyFor(first, restingPrice)),
        },
        parse.any,
      );
      return ['pass', `a LIMIT BUY of ${first.symbol} passes the exchange's checks`];
    });

  // The stream is opened before any order so that their events can be seen arriving.
  const reports: StreamReport[] = [];
  const stream =
    canSign && creds.apiKey && creds.apiSecret
      ? new BinanceUserStream({
          url: urls.wsApi,
          apiKey: creds.apiKey,
          apiSecret: creds.apiSecret,
          clock: rest,
          log: opts.log,
          maxAgeMs: 3_600_000,
          reconnectDelayMs: 1000,
          onReport: (r) => reports.push(r),
          onResumed: () => {},
          registry: new Registry(),
        })
      : undefined;
  const wait = opts.streamWaitMs ?? 5000;
  stream?.start();
  try {
    if (stream) await until(() => stream.live, wait);
    const testnet = env === 'testnet';
    const mine = (o: BinanceOrder | undefined) => o?.clientOrderId.startsWith(CHECK_PREFIX) ?? false;
    if (!testnet) {
      add('order cycle', 'skip', 'only on the testnet: the check never trades on the live exchange');
      add('ioc', 'skip', 'only on the testnet: the check never trades on the live exchange');
    } else if (!ready) {
      add('order cycle', 'skip', 'needs the symbols, the permissions and a book for the first symbol');
      add('ioc', 'skip', 'needs the symbols, the permissions and a book for the first symbol');
    } else {
      const id = `${CHECK_PREFIX}${Date.now().toString(36)}`;
      await step('order cycle', async () => {
        const placed = await rest.signed(
          'POST',
          '/api/v3/order',
          {
            symbol: first.symbol,
            side: 'BUY',
            type: 'LIMIT',
            timeInForce: 'GTC',
            price: formatPrice(first, restingPrice),
            quantity: formatQty(first, qtyFor(first, restingPrice)),
            newClientOrderId: `${id}-r`,
            newOrderRespType: 'FULL',
          },
          parse.order,
        );
        const q = await rest.signed(
          'GET',
          '/api/v3/order',
          { symbol: first.symbol, origClientOrderId: `${id}-r` },
          parse.order,
        );
        const canceled = await rest.signed(
          'DELETE',
          '/api/v3/order',
          { symbol: first.symbol, origClientOrderId: `${id}-r` },
          parse.order,
        );
        if (q.status !== 'NEW' || canceled.status !== 'CANCELED')
          return ['fail', `placed ${placed.status}, queried ${q.status}, canceled ${canceled.status}`];
        return ['pass', `placed, queried (NEW) and canceled (CANCELED) order ${placed.orderId}`];
      });
      await step('ioc', async () => {
        const qty = qtyFor(first, ask);
        const res = await rest.signed(
          'POST',
          '/api/v3/order',
          {
            symbol: first.symbol,
            side: 'BUY',
            type: 'LIMIT',
            timeInForce: 'IOC',
            price: formatPrice(first, ask),
            quantity: formatQty(first, qty),
            newClientOrderId: `${id}-i`,
            newOrderRespType: 'FULL',
          },
          parse.order,
        );
        const fills = res.fills ?? [];
        if (fills.length === 0) return ['warn', `IOC ${res.status} without a fill: no commission seen`];
        const fees = fills.map((f) => `${f.commission} ${f.commissionAsset}`).join(', ');
        return ['pass', `IOC ${res.status}: ${res.executedQty} at the ask, commission ${fees}`];
      });
      if (stream?.live) await until(() => reports.some((r) => mine(r.order)), wait);
    }
    if (!stream) add('stream', 'skip', 'needs working credentials');
    else if (!stream.live)
      add('stream', 'fail', `no user data stream subscription at ${urls.wsApi} within ${wait} ms`);
    else if (testnet && ready) {
      const n = reports.filter((r) => mine(r.order)).length;
      add(
        'stream',
        n > 0 ? 'pass' : 'fail',
        n > 0
          ? `subscribed at ${urls.wsApi}; ${n} executionReports of the check's orders received`
          : `subscribed at ${urls.wsApi}, but no executionReport of the check's orders arrived within ${wait} ms`,
      );
    } else add('stream', 'pass', `subscribed at ${urls.wsApi}`);
  } finally {
    await stream?.close();
  }

  if (!info) add('weight', 'skip', 'needs exchangeInfo');
  else {
    const plan = weightPlan({
      symbols: symbols.length,
      pollIntervalMs: c.binancePollInterval,
      marketSource: c.marketSource,
      limits: budget.limits,
    });
    add('weight', plan.status, `${plan.detail}; used now ${Math.round(budget.usage() * 100)}%`);
  }
  return out;
}

function roundDown(v: number, step: number): number {
  return Math.floor(v / step) * step;
}

function roundUp(v: number, step: number): number {
  return Math.ceil(v / step) * step;
}

async function until(ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
}
