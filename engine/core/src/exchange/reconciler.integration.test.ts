// Continuous reconciliation, as a real engine process against the fake Binance: the order status
// poller is switched off (a 10-minute interval), so every repair here is the reconciler's. Each
// drift is made on the exchange's side, where the engine cannot see it happen.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reconciliation } from '@veloz/api/http/contract';
import { until as waitFor } from '@veloz/testing/until';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';
import {
  FAKE_API_KEY as KEY,
  FAKE_API_SECRET as SECRET,
  fakeBinanceEngineEnv,
} from '@veloz/testing/fake-binance/engine-env';
import { FakeBinance, toUnits } from '@veloz/testing/fake-binance/server';
import { walState } from '@veloz/testing/fake-binance/wal-state';
import { parse } from './binance-answers.ts';
import { BinanceRest } from './binance-rest.ts';
import { exchangeClientOrderId } from './binance-venue.ts';

interface OrderView {
  orderId: number;
  clientOrderId: string;
  status: string;
  filledQuantity: string;
  createdAt: number;
  error?: string;
  reason?: string;
}

const until = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 8000): Promise<T> =>
  waitFor(what, fn, timeoutMs, 25);

describe('reconciliation with the fake Binance', () => {
  let fake: FakeBinance;
  let dir: string;
  let eng: EngineProcess;
  let n = 0;
  /** Orders whose disagreement a test made on purpose: only a person can settle those. */
  const drifted = new Set<number>();

  const api = async <T = OrderView>(method: string, path: string, body?: unknown) => {
    const res = await fetch(`${eng.url}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : null,
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const place = async (over: Record<string, string> = {}) => {
    const res = await api('POST', '/api/orders', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '0.010',
      price: '49000.00',
      clientOrderId: `r${++n}`,
      ...over,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const orders = async () => (await api<{ orders: OrderView[] }>('GET', '/api/orders_state')).body.orders;
  const settled = (id: number, status: string) =>
    until(`order ${id} ${status}`, async () => {
      const o = (await api('GET', `/api/orders/${id}`)).body;
      return o.status === status ? o : undefined;
    });
  const cidOf = async (id: number) => {
    const o = (await orders()).find((x) => x.orderId === id)!;
    return exchangeClientOrderId(o);
  };
  const report = async () => (await api<Reconciliation>('GET', '/api/exchange/reconciliation')).body;
  const differences = async (kind: string) => {
    const text = await (await fetch(`${eng.url}/metrics`)).text();
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('veloz_exchange_reconcile_differences_total{') &&
          l.includes('phase="reconcile"') &&
          l.includes(`kind="${kind}"`),
      );
    return line ? Number(line.split(' ').at(-1)) : 0;
  };
  // A run counts its differences when it finishes, after the repair the test waits for is visible.
  const counted = (kind: string, atLeast: number) =>
    until(`${atLeast} ${kind} differences counted`, async () => {
      const v = await differences(kind);
      return v >= atLeast ? v : undefined;
    });

  beforeAll(async () => {
    fake = await FakeBinance.start({ apiKey: KEY, apiSecret: SECRET, bookTickerIntervalMs: 50 });
    dir = await mkdtemp(join(tmpdir(), 'veloz-reconcile-'));
    // Neither the poller nor the user data stream: every repair here is the reconciler's.
    eng = await startEngineProcess(
      fakeBinanceEngineEnv(fake, dir, {
        VELOZ_BINANCE_POLL_INTERVAL: '600000',
        VELOZ_BINANCE_USER_STREAM: 'false',
        VELOZ_RECONCILE_INTERVAL: '150',
      }),
    );
  });

  afterAll(async () => {
    await eng?.kill('SIGKILL');
    await fake?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports its runs, in sync, from start', async () => {
    const r = await report();
    expect(r.enabled).toBe(true);
    expect(r.intervalMs).toBe(150);
    expect(r.runs).toBeGreaterThan(0);
    expect(r.lastRun?.ok).toBe(true);
    expect(r.inSync).toBe(true);
    expect(r.open).toEqual([]);
  });

  it('records a fill the engine never heard of', async () => {
    const o = await place();
    await settled(o.orderId, 'ACCEPTED');
    fake.fill(await cidOf(o.orderId), '0.004');
    const part = await settled(o.orderId, 'PARTIALLY_FILLED');
    expect(part.filledQuantity).toBe('0.00400');
    expect(await counted('fill', 1)).toBeGreaterThan(0);
    expect((await report()).inSync).toBe(true);
  });

  it('resolves by query an order the exchange no longer lists', async () => {
    const o = await place();
    await settled(o.orderId, 'ACCEPTED');
    fake.cancelOutside(await cidOf(o.orderId));
    await settled(o.orderId, 'CANCELED');
    expect(await counted('resolved', 1)).toBeGreaterThan(0);
  });

  it('adopts an open order of this desk that the WAL lacks, and follows it on the exchange', async () => {
    const cid = 'veloz-900-lost0';
    await rest().signed(
      'POST',
      '/api/v3/order',
      {
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        quantity: '0.00200',
        price: '48000.00',
        newClientOrderId: cid,
      },
      parse.order,
    );
    const adopted = await until('the order adopted', async () =>
      (await orders()).find((o) => o.clientOrderId === cid && o.status === 'ACCEPTED'),
    );
    expect(await counted('adopted', 1)).toBe(1);
    // The adopted order is asked about under its exchange id: its fill is recorded too.
    fake.fill(cid);
    const filled = await settled(adopted.orderId, 'FILLED');
    expect(filled.filledQuantity).toBe('0.00200');
    // A foreign order (another client on the account) is left alone.
    await rest().signed(
      'POST',
      '/api/v3/order',
      {
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        quantity: '0.001',
        price: '47000.00',
        newClientOrderId: 'someone-else-1',
      },
      parse.order,
    );
    const runs = (await report()).runs;
    await until('two more runs', async () => ((await report()).runs >= runs + 2 ? true : undefined));
    expect((await orders()).some((o) => o.clientOrderId === 'someone-else-1')).toBe(false);
    expect(await differences('adopted')).toBe(1);
  });

  it('adopts a filled order of this desk that the WAL never recorded, with its fills', async () => {
    const cid = 'veloz-902-gone0';
    const ex = await rest().signed(
      'POST',
      '/api/v3/order',
      { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.00300', newClientOrderId: cid },
      parse.order,
    );
    expect(ex.status).toBe('FILLED');
    // Never open, so only its trades show it.
    const adopted = await until('the filled order adopted', async () =>
      (await orders()).find((o) => o.clientOrderId === cid && o.status === 'FILLED'),
    );
    expect(adopted.filledQuantity).toBe('0.00300');
    expect((await report()).inSync).toBe(true);
  });

  const rest = () =>
    new BinanceRest({
      baseUrl: fake.url,
      apiKey: KEY,
      apiSecret: SECRET,
      recvWindow: 5000,
      timeoutMs: 2000,
      maxBackoffMs: 1000,
      log: pino({ level: 'silent' }),
    });
  const outOfSync = (kind: string) =>
    until(`an open ${kind} difference`, async () => {
      const r = await report();
      return r.open.some((d) => d.kind === kind) ? r : undefined;
    });
  const resumed = async () => {
    await api('POST', '/api/trading/resume');
    return until('in sync again', async () => {
      const r = await report();
      return r.inSync && !r.halted ? r : undefined;
    });
  };

  it('halts when the exchange executed an order the WAL holds canceled', async () => {
    const o = await place();
    drifted.add(o.orderId);
    await settled(o.orderId, 'ACCEPTED');
    expect((await api('DELETE', `/api/orders/${o.orderId}`)).status).toBe(200);
    await settled(o.orderId, 'CANCELED');
    // The exchange's own record says otherwise: it traded part of the order and still lists it.
    const cid = await cidOf(o.orderId);
    fake.order(cid)!.status = 'NEW';
    fake.fill(cid, '0.003');
    const r = await outOfSync('terminal_mismatch');
    expect(r.halted).toBe(true);
    expect(r.open.find((d) => d.kind === 'terminal_mismatch')).toMatchObject({
      orderId: o.orderId,
      exchangeClientOrderId: cid,
    });
    expect((await api('GET', `/api/orders/${o.orderId}`)).body.status).toBe('CANCELED');
    fake.cancelOutside(cid);
    await resumed();
  });

  it('halts on an order of this desk that it cannot take over', async () => {
    const cid = 'veloz-901-fok0';
    await rest().signed(
      'POST',
      '/api/v3/order',
      {
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        quantity: '0.00200',
        price: '48000.00',
        newClientOrderId: cid,
      },
      parse.order,
    );
    // Resting with a time in force the engine does not trade (the fake never rests one itself).
    fake.order(cid)!.timeInForce = 'GTD';
    const r = await outOfSync('not_adoptable');
    expect(r.open.find((d) => d.kind === 'not_adoptable')?.message).toMatch(
      /timeInForce GTD is not GTC or IOC/,
    );
    expect((await orders()).some((o) => o.clientOrderId === cid)).toBe(false);
    fake.cancelOutside(cid);
    await resumed();
  });

  it('halts new orders on a drift it cannot repair, until trading is resumed', async () => {
    const m = await api('POST', '/api/orders', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'MARKET',
      quantity: '0.010',
    });
    expect(m.status, JSON.stringify(m.body)).toBe(201);
    await settled(m.body.orderId, 'FILLED');
    // The exchange now holds less BTC than the WAL's position (a withdrawal, fees the WAL missed).
    fake.balances.get('BTC')!.free = toUnits('0.001');
    const out = await until('out of sync', async () => {
      const r = await report();
      return r.inSync ? undefined : r;
    });
    expect(out.halted).toBe(true);
    expect(out.open.map((d) => d.kind)).toEqual(['balance']);
    expect(out.open[0]!.message).toMatch(/BTCUSDT position needs .* BTC, the exchange holds 0\.001/);
    const refused = await api('POST', '/api/orders', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '0.010',
      price: '49000.00',
    });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.body)).toMatch(/exchange out of sync/);

    // Resumed while still short: the next run halts again.
    await api('POST', '/api/trading/resume');
    await until('halted again', async () => ((await report()).halted ? true : undefined));

    fake.balances.get('BTC')!.free = toUnits('1000');
    await api('POST', '/api/trading/resume');
    const back = await until('in sync', async () => {
      const r = await report();
      return r.inSync && r.lastRun && r.lastRun.startedAt > Date.now() - 1000 ? r : undefined;
    });
    expect(back.halted).toBe(false);
    await place();
  });

  it('leaves the WAL holding what the exchange holds', async () => {
    const state = await walState(dir);
    for (const o of state.orders.values()) {
      const ex = fake.order(exchangeClientOrderId(o));
      if (!ex || drifted.has(o.orderId)) continue;
      // WAL quantities in steps of 0.00001, the fake's in units of 10^-8.
      expect(BigInt(o.filledQuantity) * 1000n, `order ${o.orderId}`).toBe(ex.executedQty);
    }
  });
});
