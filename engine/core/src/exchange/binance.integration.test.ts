// The engine as a real process against the local fake Binance (REST + WebSocket), once per
// failure the exchange can throw at it. Every scenario ends by comparing the engine's WAL with
// the fake exchange's own book-keeping: the WAL must hold the exchange's true state.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatQty } from '../domain/instrument.ts';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';
import {
  BTCUSDT,
  ETHUSDT,
  FakeBinance,
  fromUnits,
  type FakeSymbolSpec,
} from '@veloz/testing/fake-binance/server';
import { walState } from '@veloz/testing/fake-binance/wal-state';
import { exchangeClientOrderId } from './binance-venue.ts';
import { instrumentFromExchangeInfo } from './filters.ts';

const KEY = 'fake-api-key-0123456789';
const SECRET = 'fake-api-secret-abcdefghijklmnop';

interface OrderView {
  orderId: number;
  clientOrderId: string;
  status: string;
  filledQuantity: string;
  avgPrice: string;
  exchangeOrderId: string;
  reason: string;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 8000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('engine against the fake Binance', () => {
  let fake: FakeBinance;
  let dir: string;
  let eng: EngineProcess;
  let env: Record<string, string>;
  let n = 0;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${eng.url}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : null,
    });
    return { status: res.status, body: (await res.json()) as OrderView & { error?: string } };
  };
  const place = async (over: Record<string, string> = {}) => {
    const res = await api('POST', '/api/orders', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '0.010',
      price: '49000.00',
      clientOrderId: `t${++n}`,
      ...over,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const order = async (id: number) => (await api('GET', `/api/orders/${id}`)).body;
  const settled = (id: number, status: string, timeoutMs?: number) =>
    until(
      `order ${id} ${status}`,
      async () => {
        const o = await order(id);
        return o.status === status ? o : undefined;
      },
      timeoutMs,
    );
  const metric = async (name: string) => {
    const text = await (await fetch(`${eng.url}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith(name))
      .reduce((s, l) => s + Number(l.split(' ').at(-1)), 0);
  };
  const exchangeOrder = async (o: OrderView) => {
    // The exchange's id is derived from the engine's order id and creation time.
    const full = (await api('GET', `/api/orders_state`)).body as unknown as {
      orders: Array<OrderView & { createdAt: number }>;
    };
    const mine = full.orders.find((x) => x.orderId === o.orderId)!;
    return fake.order(exchangeClientOrderId({ orderId: mine.orderId, createdAt: mine.createdAt }));
  };

  beforeAll(async () => {
    fake = await FakeBinance.start({
      apiKey: KEY,
      apiSecret: SECRET,
      bookTickerIntervalMs: 50,
      pingIntervalMs: 200,
    });
    dir = await mkdtemp(join(tmpdir(), 'veloz-binance-'));
    env = {
      VELOZ_WAL_DIR: dir,
      VELOZ_ORDER_HISTORY: '100000',
      VELOZ_ORDER_RATE_LIMIT: '1000',
      VELOZ_MARKET_SOURCE: 'binance_ws',
      VELOZ_EXECUTION_MODE: 'binance_testnet_spot',
      VELOZ_BINANCE_BASE_URL: fake.url,
      VELOZ_BINANCE_TRADE_BASE_URL: fake.url,
      VELOZ_BINANCE_WS_BASE_URL: fake.wsUrl,
      VELOZ_BINANCE_WS_API_URL: fake.wsApiUrl,
      VELOZ_BINANCE_API_KEY: KEY,
      VELOZ_BINANCE_API_SECRET: SECRET,
      VELOZ_BINANCE_REQUEST_TIMEOUT: '300',
      // A short acceptance horizon (1 s + 0.5 s) keeps the unknown-outcome scenarios quick.
      VELOZ_BINANCE_RECV_WINDOW: '1000',
      VELOZ_BINANCE_ACCEPTANCE_MARGIN: '500',
      VELOZ_BINANCE_POLL_INTERVAL: '100',
      VELOZ_BINANCE_MAX_BACKOFF: '5000',
      VELOZ_WS_RECONNECT_DELAY: '100',
      VELOZ_LOG_LEVEL: 'warn',
    };
    eng = await startEngineProcess(env);
  });

  afterAll(async () => {
    await eng?.kill('SIGKILL');
    await fake?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the exchange filters and enforces them', async () => {
    const tick = await api('POST', '/api/orders', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '0.010',
      price: '49000.001',
    });
    expect(tick.status).toBe(400);
    expect(tick.body).toMatchObject({ field: 'price' });
    const notional = await api('POST', '/api/orders', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '0.00001',
      price: '100.00',
    });
    expect(notional.status).toBe(422);
    expect(notional.body).toMatchObject({ reason: 'MIN_NOTIONAL' });
    expect(fake.count('POST', '/api/v3/order')).toBe(0);
  });

  it('fills a crossing order and rests one that does not, with fills found by the user data stream', async () => {
    const taker = await place({ price: '50001.00' });
    const filled = await settled(taker.orderId, 'FILLED');
    expect(filled.avgPrice).toBe('50000.10');
    expect(filled.exchangeOrderId).not.toBe('');
    const maker = await place();
    await settled(maker.orderId, 'ACCEPTED');
    fake.fill((await exchangeOrder(maker))!.clientOrderId, '0.004');
    const part = await settled(maker.orderId, 'PARTIALLY_FILLED');
    expect(part.filledQuantity).toBe('0.00400');
    const del = await api('DELETE', `/api/orders/${maker.orderId}`);
    expect(del.status).toBe(200);
    const canceled = await settled(maker.orderId, 'CANCELED');
    expect(canceled.filledQuantity).toBe('0.00400');
  });

  it('records a partially filled order and its later fills', async () => {
    fake.nextFillFraction = 0.3;
    const o = await place({ price: '50001.00' });
    const part = await settled(o.orderId, 'PARTIALLY_FILLED');
    expect(part.filledQuantity).toBe('0.00300');
    fake.fill((await exchangeOrder(o))!.clientOrderId);
    const done = await settled(o.orderId, 'FILLED');
    expect(done.filledQuantity).toBe('0.01000');
  });

  it.each([
    [
      '429 with Retry-After',
      { kind: 'error' as const, status: 429, code: -1003, msg: 'Too many requests.', retryAfter: 1 },
    ],
    [
      '418 with Retry-After',
      {
        kind: 'error' as const,
        status: 418,
        code: -1003,
        msg: 'Way too many requests; IP banned.',
        retryAfter: 1,
      },
    ],
  ])('backs off on %s and sends the order again after it', async (_name, failure) => {
    const posts = fake.count('POST', '/api/v3/order');
    fake.failNext({ method: 'POST', path: '/api/v3/order' }, failure);
    const t0 = Date.now();
    const o = await place();
    expect(o.status).toBe('SUBMITTED');
    await settled(o.orderId, 'ACCEPTED', 10_000);
    // Retry-After is honoured: the second request left no earlier than a second after the first.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(fake.count('POST', '/api/v3/order') - posts).toBe(2);
    expect(await metric('veloz_exchange_backoffs_total')).toBeGreaterThan(0);
  });

  it('resynchronises its clock on -1021 and resends', async () => {
    const seen = fake.log.length;
    const syncs = await metric('veloz_exchange_backoffs_total{reason="time_sync"}');
    fake.clockSkewMs = 30_000;
    try {
      const o = await place();
      await settled(o.orderId, 'ACCEPTED');
      // The order or the poller (whichever signed first) met -1021 and resynchronised.
      expect(fake.log.slice(seen).some((l) => l.status === 400)).toBe(true);
      expect(await metric('veloz_exchange_backoffs_total{reason="time_sync"}')).toBeGreaterThan(syncs);
    } finally {
      fake.clockSkewMs = 0;
    }
    // Back to the true clock: the next order resynchronises once more and goes through.
    const o2 = await place();
    await settled(o2.orderId, 'ACCEPTED');
  });

  it.each([
    ['a 5XX after executing', { kind: 'server_error' as const, execute: true }, 'FILLED'],
    ['a 5XX before executing', { kind: 'server_error' as const, execute: false }, 'REJECTED'],
    ['a timeout after executing', { kind: 'timeout' as const, execute: true }, 'FILLED'],
    ['a timeout before executing', { kind: 'timeout' as const, execute: false }, 'REJECTED'],
  ])('leaves the order UNKNOWN after %s and resolves it by querying', async (_name, failure, outcome) => {
    fake.failNext({ method: 'POST', path: '/api/v3/order' }, failure);
    const o = await place({ price: '50001.00' });
    const seen = await until('UNKNOWN', async () => {
      const v = await order(o.orderId);
      return v.status === 'UNKNOWN' || v.status === outcome ? v : undefined;
    });
    expect(['UNKNOWN', outcome]).toContain(seen.status);
    const final = await settled(o.orderId, outcome);
    if (outcome === 'REJECTED')
      expect(final.reason).toMatch(/not found on the exchange after its acceptance horizon/);
    expect(fake.count('GET', '/api/v3/order')).toBeGreaterThan(0);
    expect(await metric('veloz_exchange_reconcile_differences_total{phase="unknown"')).toBeGreaterThan(0);
  });

  const notFoundAnswers = () =>
    fake.log.filter((l) => l.method === 'GET' && l.path === '/api/v3/order' && l.status === 400).length;

  it('keeps an order that arrives late UNKNOWN, never REJECTED, until the exchange shows it', async () => {
    const before = notFoundAnswers();
    // The POST reaches the exchange 800 ms late, within its recvWindow (1000 ms): Binance takes it.
    fake.failNext({ method: 'POST', path: '/api/v3/order' }, { kind: 'late', delayMs: 800 });
    const o = await place();
    await settled(o.orderId, 'UNKNOWN');
    const final = await settled(o.orderId, 'ACCEPTED', 8000);
    expect((await exchangeOrder(final))?.status).toBe('NEW');
    // The first queries found nothing, and that did not make it REJECTED.
    expect(notFoundAnswers() - before).toBeGreaterThan(0);
    expect(final.exchangeOrderId).not.toBe('');
  });

  it('believes "no such order" only after the acceptance horizon', async () => {
    // 1300 ms late is beyond recvWindow: the exchange refuses it on arrival (-1021), unseen.
    fake.failNext({ method: 'POST', path: '/api/v3/order' }, { kind: 'late', delayMs: 1300 });
    const t0 = Date.now();
    const o = await place();
    await settled(o.orderId, 'UNKNOWN');
    const final = await settled(o.orderId, 'REJECTED', 8000);
    // recvWindow + margin after the request was signed, which was after t0.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
    expect(final.reason).toMatch(/acceptance horizon/);
    await until('the late request', async () =>
      fake.log.some((l) => l.method === 'POST' && l.status === 400) ? true : undefined,
    );
    expect(await exchangeOrder(o)).toBeUndefined();
  });

  it('keeps an order UNKNOWN after -1006 until a query resolves it, however long that takes', async () => {
    fake.failNext(
      { method: 'POST', path: '/api/v3/order' },
      {
        kind: 'error',
        status: 500,
        code: -1006,
        msg: 'An unexpected response was received from the message bus. Execution status unknown.',
        execute: true,
      },
    );
    fake.failNext({ method: 'GET', path: '/api/v3/order' }, { kind: 'server_error', execute: false }, 1000);
    const o = await place({ price: '50001.00' });
    await settled(o.orderId, 'UNKNOWN');
    // Past its horizon, but the exchange has not said anything yet: still UNKNOWN.
    await new Promise((r) => setTimeout(r, 2000));
    expect((await order(o.orderId)).status).toBe('UNKNOWN');
    fake.clearFailures();
    const final = await settled(o.orderId, 'FILLED', 10_000);
    expect((await exchangeOrder(final))?.status).toBe('FILLED');
  });

  it('reads -1007 by its code, not its HTTP status: UNKNOWN, then the exchange decides', async () => {
    fake.failNext(
      { method: 'POST', path: '/api/v3/order' },
      { kind: 'error', status: 400, code: -1007, msg: 'Timeout waiting for response from backend server.' },
    );
    const o = await place();
    await settled(o.orderId, 'UNKNOWN');
    const final = await settled(o.orderId, 'REJECTED', 8000);
    expect(final.reason).toMatch(/acceptance horizon/);
  });

  it('rejects at once what the exchange refused: a closed market, a WAF block', async () => {
    fake.setSymbolStatus('BTCUSDT', 'HALT');
    try {
      const o = await place();
      const final = await settled(o.orderId, 'REJECTED');
      expect(final.reason).toMatch(/-2010: Market is closed/);
    } finally {
      fake.setSymbolStatus('BTCUSDT', 'TRADING');
    }
    const queries = fake.count('GET', '/api/v3/order');
    fake.failNext(
      { method: 'POST', path: '/api/v3/order' },
      { kind: 'error', status: 403, msg: 'Forbidden' },
    );
    const w = await place();
    expect((await settled(w.orderId, 'REJECTED')).reason).toMatch(/Binance 403/);
    expect(fake.count('GET', '/api/v3/order')).toBe(queries);
  });

  it('is not ready while Binance refuses its key, and ready again once it accepts it', async () => {
    fake.failNext(
      { method: 'POST', path: '/api/v3/order' },
      { kind: 'error', status: 401, code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' },
    );
    const refused = {
      kind: 'error' as const,
      status: 401,
      code: -2015,
      msg: 'Invalid API-key, IP, or permissions for action.',
    };
    fake.failNext({ method: 'GET', path: '/api/v3/openOrders' }, refused, 1000);
    const o = await place();
    expect((await settled(o.orderId, 'REJECTED', 10_000)).reason).toMatch(/-2015/);
    const r = await fetch(`${eng.url}/ready`);
    expect(r.status).toBe(503);
    expect(((await r.json()) as { reasons: string[] }).reasons.join()).toMatch(
      /refuses the engine's signed requests/,
    );
    fake.clearFailures();
    await until(
      'ready again',
      async () => ((await fetch(`${eng.url}/ready`)).status === 200 ? true : undefined),
      10_000,
    );
  });

  it('confirms a cancel whose answer was lost', async () => {
    const o = await place();
    await settled(o.orderId, 'ACCEPTED');
    fake.failNext({ method: 'DELETE', path: '/api/v3/order' }, { kind: 'server_error', execute: true });
    const del = await api('DELETE', `/api/orders/${o.orderId}`);
    expect(del.body.status).toBe('PENDING_CANCEL');
    await settled(o.orderId, 'CANCELED');
  });

  it('reports a gap in the trade stream and reconnects a dropped stream', async () => {
    fake.publishTrade('BTCUSDT', '50000.05', '0.1');
    fake.skipTradeIds('BTCUSDT', 7);
    fake.publishTrade('BTCUSDT', '50000.06', '0.1');
    await until('gap metric', async () =>
      (await metric('veloz_market_data_missed_trades_total')) >= 7 ? true : undefined,
    );
    expect(await metric('veloz_market_data_gaps_total')).toBeGreaterThanOrEqual(1);

    const connections = fake.wsConnections;
    fake.refuseStreams = true;
    fake.dropStreams();
    await until('not ready', async () => {
      const r = await fetch(`${eng.url}/ready`);
      const body = (await r.json()) as { reasons: string[] };
      return r.status === 503 && body.reasons.some((x) => x.includes('stream disconnected'))
        ? true
        : undefined;
    });
    fake.refuseStreams = false;
    await until('ready again', async () =>
      (await fetch(`${eng.url}/ready`)).status === 200 ? true : undefined,
    );
    expect(fake.wsConnections).toBeGreaterThan(connections);
    expect(await metric('veloz_ws_disconnects_total')).toBeGreaterThanOrEqual(1);
    // The engine answers the exchange's pings.
    expect(fake.pongs).toBeGreaterThan(0);
  });

  it('reconciles open orders with the exchange on start', async () => {
    const a = await place();
    const b = await place();
    await settled(a.orderId, 'ACCEPTED');
    await settled(b.orderId, 'ACCEPTED');
    const ca = (await exchangeOrder(a))!.clientOrderId;
    const cb = (await exchangeOrder(b))!.clientOrderId;
    // An order whose request is lost on the way: UNKNOWN when the engine dies.
    fake.failNext({ method: 'POST', path: '/api/v3/order' }, { kind: 'timeout', execute: false });
    fake.failNext({ method: 'GET', path: '/api/v3/order' }, { kind: 'server_error', execute: false }, 1000);
    const c = await place();
    await settled(c.orderId, 'UNKNOWN');
    await eng.kill('SIGKILL');
    // While the engine is down: one order fills, the other is canceled elsewhere.
    fake.fill(ca);
    fake.cancelOutside(cb);
    fake.clearFailures();
    eng = await startEngineProcess(env);
    expect((await order(a.orderId)).status).toBe('FILLED');
    expect((await order(b.orderId)).status).toBe('CANCELED');
    // c is REJECTED only once its acceptance horizon has passed: at start or soon after.
    await settled(c.orderId, 'REJECTED');
    expect(await metric('veloz_exchange_reconcile_differences_total{phase="start"')).toBeGreaterThanOrEqual(
      3,
    );
  });

  it('ends with the exchange’s true state in its WAL', async () => {
    await until('no open orders in flight', async () => {
      const s = (await api('GET', '/api/orders_state?status=open')).body as unknown as {
        orders: OrderView[];
      };
      return s.orders.every((o) => o.status === 'ACCEPTED' || o.status === 'PARTIALLY_FILLED')
        ? true
        : undefined;
    });
    expect(await eng.kill('SIGTERM')).toBe(0);
    const state = await walState(dir);
    const info = (await (await fetch(`${fake.url}/api/v3/exchangeInfo?symbol=BTCUSDT`)).json()) as {
      symbols: Parameters<typeof instrumentFromExchangeInfo>[0][];
    };
    const inst = instrumentFromExchangeInfo(info.symbols[0]!);
    const STATUS: Record<string, string> = {
      NEW: 'ACCEPTED',
      PARTIALLY_FILLED: 'PARTIALLY_FILLED',
      FILLED: 'FILLED',
      CANCELED: 'CANCELED',
      EXPIRED: 'EXPIRED',
    };
    const matched = new Set<string>();
    expect(state.orders.size).toBeGreaterThan(10);
    for (const o of state.orders.values()) {
      const ex = fake.order(exchangeClientOrderId(o));
      if (!ex) {
        expect(o.status, `order ${o.orderId} never reached the exchange`).toBe('REJECTED');
        expect(o.filledQuantity).toBe(0);
        continue;
      }
      matched.add(ex.clientOrderId);
      expect({ id: o.orderId, status: o.status }).toEqual({ id: o.orderId, status: STATUS[ex.status] });
      expect(formatQty(inst, o.filledQuantity)).toBe(fromUnits(ex.executedQty).slice(0, -3));
      expect(o.exchangeOrderId).toBe(String(ex.orderId));
      const notional = ex.trades.reduce((s, t) => s + t.price * t.qty, 0n);
      // WAL notional is price units x quantity units; the fake's is 1e-8 x 1e-8.
      expect(o.filledNotional * 10n ** BigInt(16 - inst.priceDecimals - inst.qtyDecimals)).toBe(notional);
    }
    expect(matched.size).toBe(fake.orders.size);
  });
});

describe('commission, long orders and symbols as Binance states them', () => {
  const ETH: FakeSymbolSpec = {
    ...ETHUSDT,
    extraFilters: [...(ETHUSDT.extraFilters ?? []), { filterType: 'ICEBERG_PARTS', limit: 10 }],
  };
  let fake: FakeBinance;
  let dir: string;
  let eng: EngineProcess;
  let env: Record<string, string>;
  let n = 0;

  const post = async (body: Record<string, string>) => {
    const res = await fetch(`${eng.url}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ symbol: 'BTCUSDT', type: 'LIMIT', clientOrderId: `f${++n}`, ...body }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as OrderView;
  };
  const settled = (id: number, status: string, timeoutMs = 10_000) =>
    until(
      `order ${id} ${status}`,
      async () => {
        const o = (await (await fetch(`${eng.url}/api/orders/${id}`)).json()) as OrderView;
        return o.status === status ? o : undefined;
      },
      timeoutMs,
    );
  const position = async (symbol: string) => {
    const body = (await (await fetch(`${eng.url}/api/positions`)).json()) as {
      positions: Array<{ symbol: string; strategy: string; quantity: string; realizedPnl: string }>;
    };
    return body.positions.find((p) => p.symbol === symbol && p.strategy === '')!;
  };
  const cid = async (o: OrderView) => {
    const full = (await (await fetch(`${eng.url}/api/orders_state`)).json()) as {
      orders: Array<OrderView & { createdAt: number }>;
    };
    const mine = full.orders.find((x) => x.orderId === o.orderId)!;
    return exchangeClientOrderId({ orderId: mine.orderId, createdAt: mine.createdAt });
  };

  beforeAll(async () => {
    fake = await FakeBinance.start({
      apiKey: KEY,
      apiSecret: SECRET,
      symbols: [BTCUSDT, ETH],
      // An account that starts without BTC, paying 0.1% in the asset it receives.
      balances: { BTC: '0', ETH: '10', USDT: '100000' },
      commission: { rate: '0.001' },
      bookTickerIntervalMs: 50,
    });
    dir = await mkdtemp(join(tmpdir(), 'veloz-binance-fees-'));
    env = {
      VELOZ_WAL_DIR: dir,
      VELOZ_ORDER_RATE_LIMIT: '1000',
      VELOZ_MARKET_SOURCE: 'binance_ws',
      VELOZ_SYMBOLS: 'ETHUSDT',
      VELOZ_EXECUTION_MODE: 'binance_testnet_spot',
      VELOZ_BINANCE_BASE_URL: fake.url,
      VELOZ_BINANCE_TRADE_BASE_URL: fake.url,
      VELOZ_BINANCE_WS_BASE_URL: fake.wsUrl,
      VELOZ_BINANCE_WS_API_URL: fake.wsApiUrl,
      // The REST paths (myTrades pages) are what this suite checks: the stream would report every
      // trade itself (user-stream.integration.test.ts covers it).
      VELOZ_BINANCE_USER_STREAM: 'false',
      VELOZ_BINANCE_API_KEY: KEY,
      VELOZ_BINANCE_API_SECRET: SECRET,
      VELOZ_BINANCE_POLL_INTERVAL: '100',
      VELOZ_LOG_LEVEL: 'warn',
    };
    eng = await startEngineProcess(env);
  });

  afterAll(async () => {
    await eng?.kill('SIGKILL');
    await fake?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records commission per fill: a fee in BTC leaves less BTC, and selling that much succeeds', async () => {
    const buy = await post({ side: 'BUY', quantity: '0.01000', price: '50001.00' });
    await settled(buy.orderId, 'FILLED');
    // 0.01 BTC bought, 0.00001 BTC of it kept by the exchange.
    expect((await position('BTCUSDT')).quantity).toBe('0.00999');
    expect(fake.balance('BTC').free).toBe('0.00999000');
    // The position as it was recorded before fees counted cannot be sold.
    const tooMuch = await post({ side: 'SELL', quantity: '0.01000', price: '49000.00' });
    expect((await settled(tooMuch.orderId, 'REJECTED')).reason).toMatch(
      /-2010: Account has insufficient balance/,
    );
    const all = await post({
      side: 'SELL',
      quantity: (await position('BTCUSDT')).quantity,
      price: '49000.00',
    });
    await settled(all.orderId, 'FILLED');
    expect((await position('BTCUSDT')).quantity).toBe('0.00000');
    expect(fake.balance('BTC').free).toBe('0.00000000');
  });

  it('completes an order with more fills than one myTrades page', async () => {
    const o = await post({ side: 'BUY', quantity: '0.01200', price: '49000.00' });
    await settled(o.orderId, 'ACCEPTED');
    const id = await cid(o);
    const pages = fake.count('GET', '/api/v3/myTrades');
    for (let i = 0; i < 1200; i++) fake.fill(id, '0.00001');
    const done = await settled(o.orderId, 'FILLED', 30_000);
    expect(done.filledQuantity).toBe('0.01200');
    // 1200 trades: two pages of at most 1000.
    expect(fake.count('GET', '/api/v3/myTrades') - pages).toBeGreaterThanOrEqual(2);
  });

  it('trades a symbol whose tick size is 0 (disabled) despite filters it does not know', async () => {
    const o = await post({ symbol: 'ETHUSDT', side: 'BUY', quantity: '0.1000', price: '2999.12345678' });
    await settled(o.orderId, 'ACCEPTED');
    expect(fake.order(await cid(o))?.price).toBe(299912345678n);
  });

  it('ends with the commission of every fill in its WAL', async () => {
    expect(await eng.kill('SIGTERM')).toBe(0);
    const state = await walState(dir);
    const expected = new Map<string, bigint>();
    for (const o of fake.orders.values())
      for (const t of o.trades)
        expected.set(t.commissionAsset, (expected.get(t.commissionAsset) ?? 0n) + t.commission);
    expect(state.commissions).toEqual(expected);
    eng = await startEngineProcess(env);
  });

  it('refuses to start on a symbol that is not TRADING, saying why', async () => {
    fake.setSymbolStatus('ETHUSDT', 'BREAK');
    try {
      await expect(startEngineProcess({ ...env, VELOZ_WAL_DIR: join(dir, 'other') })).rejects.toThrow(
        /ETHUSDT is BREAK on Binance, not TRADING/,
      );
    } finally {
      fake.setSymbolStatus('ETHUSDT', 'TRADING');
    }
    await expect(
      startEngineProcess({ ...env, VELOZ_SYMBOLS: 'DOGEUSDT', VELOZ_WAL_DIR: join(dir, 'other') }),
    ).rejects.toThrow(/Binance does not list DOGEUSDT/);
  });

  it.each([
    ['VELOZ_BINANCE_TRADE_BASE_URL', 'https://api.binance.com'],
    ['VELOZ_BINANCE_WS_BASE_URL', 'wss://stream.binance.com:9443/ws'],
  ])('refuses testnet mode with %s on the live exchange', async (name, value) => {
    await expect(
      startEngineProcess({ ...env, [name]: value, VELOZ_WAL_DIR: join(dir, 'other') }),
    ).rejects.toThrow(new RegExp(`exited with 2[\\s\\S]*host/mode mismatch: ${name}=`));
  });
});

describe('paper trading on polled Binance prices', () => {
  it('matches simulated orders against binance_rest quotes and reports polled trade gaps', async () => {
    const fake = await FakeBinance.start({ apiKey: KEY, apiSecret: SECRET });
    const dir = await mkdtemp(join(tmpdir(), 'veloz-binance-rest-'));
    fake.publishTrade('BTCUSDT', '50000.05', '0.1');
    const eng = await startEngineProcess({
      VELOZ_WAL_DIR: dir,
      VELOZ_MARKET_SOURCE: 'binance_rest',
      VELOZ_EXECUTION_MODE: 'sim_engine',
      VELOZ_BINANCE_BASE_URL: fake.url,
      VELOZ_BINANCE_POLL_INTERVAL: '50',
    });
    try {
      fake.setBook('BTCUSDT', '42000.00', '42000.50');
      const post = () =>
        fetch(`${eng.url}/api/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.010' }),
        });
      const filled = await until('a fill at the polled ask', async () => {
        const o = (await (await post()).json()) as OrderView;
        return o.avgPrice === '42000.50' ? o : undefined;
      });
      expect(filled.status).toBe('FILLED');
      // No order went to the exchange: execution is simulated.
      expect(fake.count('POST', '/api/v3/order')).toBe(0);
      for (let i = 0; i < 150; i++) fake.publishTrade('BTCUSDT', '42000.10', '0.001');
      const metrics = async () => (await fetch(`${eng.url}/metrics`)).text();
      await until('gap', async () =>
        (await metrics()).match(/veloz_market_data_gaps_total\{symbol="BTCUSDT"\} 1/) ? true : undefined,
      );
    } finally {
      await eng.kill('SIGKILL');
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
