// Fills by stream: the engine as a real process against the fake Binance's WebSocket API. Polling
// is set so slow that anything arriving within a second came by the user data stream; the
// connection is replaced on serverShutdown and at its maximum age with the new subscription up
// before the old connection closes (the fake counts any moment without one), readiness never
// drops, and polling takes over while the stream is down.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';
import {
  FAKE_API_KEY as KEY,
  FAKE_API_SECRET as SECRET,
  fakeBinanceEngineEnv,
} from '@veloz/testing/fake-binance/engine-env';
import { FakeBinance } from '@veloz/testing/fake-binance/server';
import { walState } from '@veloz/testing/fake-binance/wal-state';
import { sseClient } from '@veloz/testing/sse';
import { exchangeClientOrderId } from './binance-venue.ts';

interface OrderView {
  orderId: number;
  status: string;
  filledQuantity: string;
  createdAt: number;
  updatedAt: number;
}

interface FillEvent {
  orderId: number;
  quantity: string;
  commission?: { asset: string; amount: string };
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 8000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function client(eng: () => EngineProcess) {
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${eng().url}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : null,
    });
    return { status: res.status, body: (await res.json()) as OrderView };
  };
  let n = 0;
  return {
    api,
    place: async (over: Record<string, string> = {}) => {
      const res = await api('POST', '/api/orders', {
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT',
        quantity: '0.010',
        price: '49000.00',
        clientOrderId: `s${++n}`,
        ...over,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body;
    },
    settled: (id: number, status: string, timeoutMs?: number) =>
      until(
        `order ${id} ${status}`,
        async () => {
          const o = (await api('GET', `/api/orders/${id}`)).body;
          return o.status === status ? o : undefined;
        },
        timeoutMs,
      ),
    cid: (o: OrderView) => exchangeClientOrderId({ orderId: o.orderId, createdAt: o.createdAt }),
  };
}

function envFor(fake: FakeBinance, dir: string, over: Record<string, string>): Record<string, string> {
  return fakeBinanceEngineEnv(fake, dir, { VELOZ_WS_RECONNECT_DELAY: '100', ...over });
}

describe('fills by the user data stream', () => {
  let fake: FakeBinance;
  let dir: string;
  let eng: EngineProcess;
  const c = client(() => eng);

  beforeAll(async () => {
    fake = await FakeBinance.start({
      apiKey: KEY,
      apiSecret: SECRET,
      bookTickerIntervalMs: 50,
      commission: { rate: '0.001' },
    });
    dir = await mkdtemp(join(tmpdir(), 'veloz-user-stream-'));
    // Ten minutes between polls: a fill seen within a second came by the stream.
    eng = await startEngineProcess(envFor(fake, dir, { VELOZ_BINANCE_POLL_INTERVAL: '600000' }));
    await until('the user data stream subscription', () => fake.wsApi.subscribed === 1);
  });

  afterAll(async () => {
    await eng?.kill('SIGKILL');
    await fake?.close();
    await rm(dir, { recursive: true, force: true });
  });

  // Measured on the exchange's side: from the trade's time at the fake to the time the engine's
  // fill record carries (the order's updatedAt), both on this machine's clock. With polling ten
  // minutes apart only the stream can have delivered it, and a slow test machine does not make
  // the waits fail, only the figure the exchange and the WAL state.
  it("delivers a resting order's fills in under a second, commission included", async () => {
    const events = sseClient(`${eng.url}/api/stream`);
    try {
      const o = await c.place();
      await c.settled(o.orderId, 'ACCEPTED');
      const first = fake.fill(c.cid(o), '0.004');
      const part = await c.settled(o.orderId, 'PARTIALLY_FILLED', 30_000);
      expect(part.filledQuantity).toBe('0.00400');
      expect(part.updatedAt - first.time).toBeLessThan(1000);
      const last = fake.fill(c.cid(o));
      const done = await c.settled(o.orderId, 'FILLED', 30_000);
      expect(done.filledQuantity).toBe('0.01000');
      expect(done.updatedAt - last.time).toBeLessThan(1000);
      // Each fill event names the commission the exchange took: 0.1% of the BTC bought.
      const fills = await until('both fill events', () => {
        const f = events.events.filter((e) => e.type === 'fill').map((e) => JSON.parse(e.data) as FillEvent);
        return f.filter((e) => e.orderId === o.orderId).length === 2 ? f : undefined;
      });
      expect(fills.map((f) => [f.quantity, f.commission])).toEqual([
        ['0.00400', { asset: 'BTC', amount: '0.00000400' }],
        ['0.00600', { asset: 'BTC', amount: '0.00000600' }],
      ]);
    } finally {
      events.close();
    }
  });

  it('reads the missed trades when an event does not join what the WAL holds', async () => {
    const o = await c.place();
    await c.settled(o.orderId, 'ACCEPTED');
    // The first fill's event is lost; the second one says 0.004 were executed before it.
    fake.wsApi.mute = true;
    fake.fill(c.cid(o), '0.004');
    fake.wsApi.mute = false;
    const trades = fake.count('GET', '/api/v3/myTrades');
    fake.fill(c.cid(o));
    const done = await c.settled(o.orderId, 'FILLED', 1000);
    expect(done.filledQuantity).toBe('0.01000');
    expect(fake.count('GET', '/api/v3/myTrades')).toBe(trades + 1);
  });

  it('learns of a cancel made outside the engine by stream', async () => {
    const o = await c.place();
    await c.settled(o.orderId, 'ACCEPTED');
    const t0 = Date.now();
    fake.cancelOutside(c.cid(o));
    await c.settled(o.orderId, 'CANCELED', 1000);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('replaces the connection on serverShutdown with the new one subscribed first; readiness never drops', async () => {
    const before = fake.wsApi.subscriptions;
    let notReady = 0;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        if ((await fetch(`${eng.url}/ready`)).status !== 200) notReady++;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    fake.wsApiShutdown();
    await until('a new subscription', () => fake.wsApi.subscriptions === before + 1);
    await until('the old connection closed', () => fake.wsApi.clients === 1);
    watching = false;
    await watch;
    expect(notReady).toBe(0);
    expect(fake.wsApi.uncoveredCloses).toBe(0);
    const o = await c.place();
    await c.settled(o.orderId, 'ACCEPTED');
    const t0 = Date.now();
    fake.fill(c.cid(o));
    await c.settled(o.orderId, 'FILLED', 1000);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it("holds the exchange's fills and commissions in the WAL", async () => {
    await eng.kill('SIGTERM');
    const state = await walState(dir);
    const expected = new Map<string, bigint>();
    for (const o of fake.orders.values())
      for (const t of o.trades)
        expected.set(t.commissionAsset, (expected.get(t.commissionAsset) ?? 0n) + t.commission);
    expect(state.commissions).toEqual(expected);
    eng = await startEngineProcess(envFor(fake, dir, { VELOZ_BINANCE_POLL_INTERVAL: '600000' }));
  });
});

describe('user data stream connection lifetime and fallback', () => {
  let fake: FakeBinance;
  let dir: string;
  let eng: EngineProcess;
  const c = client(() => eng);

  beforeAll(async () => {
    fake = await FakeBinance.start({ apiKey: KEY, apiSecret: SECRET, bookTickerIntervalMs: 50 });
    dir = await mkdtemp(join(tmpdir(), 'veloz-user-stream-age-'));
    eng = await startEngineProcess(
      envFor(fake, dir, {
        VELOZ_BINANCE_POLL_INTERVAL: '200',
        // Stands in for the 24-hour limit.
        VELOZ_BINANCE_USER_STREAM_MAX_AGE: '1000',
      }),
    );
    await until('the user data stream subscription', () => fake.wsApi.subscribed === 1);
  });

  afterAll(async () => {
    await eng?.kill('SIGKILL');
    await fake?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('replaces the connection before its maximum age without a moment unsubscribed', async () => {
    const first = fake.wsApi.connections;
    await until('two replacements', () => fake.wsApi.connections >= first + 2, 5000);
    expect(fake.wsApi.uncoveredCloses).toBe(0);
    expect(fake.wsApi.clients).toBeLessThanOrEqual(2);
  });

  it('polls while the stream is down and resumes the stream afterwards', async () => {
    fake.refuseStreams = true;
    fake.wsApi.drop();
    await until('the stream gone', () => fake.wsApi.clients === 0);
    const o = await c.place();
    await c.settled(o.orderId, 'ACCEPTED');
    fake.fill(c.cid(o));
    await c.settled(o.orderId, 'FILLED', 3000);
    fake.refuseStreams = false;
    await until('the stream back', () => fake.wsApi.subscribed === 1, 5000);
    expect((await fetch(`${eng.url}/ready`)).status).toBe(200);
  });
});
