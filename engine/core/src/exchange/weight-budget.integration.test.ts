// One request-weight budget for market data and trading, against the fake Binance's own count:
// the weight it adds up per window for the one IP, which is the figure it answers in
// X-MBX-USED-WEIGHT-(n)(letter) and enforces with 429 -1003 past the limit. The engine polls REST
// market data for 8 symbols while it places and cancels orders; the budget must keep every window
// under the limit, market data must keep flowing for every symbol, and no order may be refused
// for it. Nothing here depends on how fast the machine is: the fake counts, the test reads.
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
import { BTCUSDT, FakeBinance, type FakeSymbolSpec } from '@veloz/testing/fake-binance/server';

const SYMBOLS: FakeSymbolSpec[] = Array.from({ length: 8 }, (_, i) => ({
  ...BTCUSDT,
  symbol: `S${i}USDT`,
  baseAsset: `S${i}`,
}));

// The figure is a five-minute run against the documented minute window; a shorter one
// (VELOZ_TEST_WEIGHT_RUN_SECONDS) is for trying changes locally, never for CI.
const RUN_SECONDS = Number(process.env.VELOZ_TEST_WEIGHT_RUN_SECONDS ?? '300');
if (!(RUN_SECONDS > 0))
  throw new Error(
    `VELOZ_TEST_WEIGHT_RUN_SECONDS=${process.env.VELOZ_TEST_WEIGHT_RUN_SECONDS} is not a positive number of seconds`,
  );

interface Run {
  fake: FakeBinance;
  eng: EngineProcess;
  dir: string;
}

async function startRun(
  window: { interval: 'SECOND' | 'MINUTE'; intervalNum: number },
  limit: number,
  pollMs: string,
): Promise<Run> {
  const fake = await FakeBinance.start({
    apiKey: KEY,
    apiSecret: SECRET,
    symbols: SYMBOLS,
    weightLimit: limit,
    weightWindow: window,
    enforceWeightLimit: true,
  });
  const dir = await mkdtemp(join(tmpdir(), 'veloz-weight-'));
  const eng = await startEngineProcess(
    fakeBinanceEngineEnv(fake, dir, {
      VELOZ_MARKET_SOURCE: 'binance_rest',
      VELOZ_MARKET_SYMBOL: SYMBOLS[0]!.symbol,
      VELOZ_SYMBOLS: SYMBOLS.slice(1)
        .map((s) => s.symbol)
        .join(','),
      VELOZ_BINANCE_POLL_INTERVAL: pollMs,
    }),
  );
  return { fake, eng, dir };
}

async function stopRun(run: Run | undefined): Promise<void> {
  await run?.eng.kill('SIGKILL');
  await run?.fake.close();
  if (run) await rm(run.dir, { recursive: true, force: true });
}

/** Places a resting order on each symbol in turn and cancels it, for `ms`; the statuses of the places. */
async function trade(eng: EngineProcess, ms: number, pauseMs: number): Promise<number[]> {
  const statuses: number[] = [];
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) {
    const symbol = SYMBOLS[n % SYMBOLS.length]!.symbol;
    const res = await fetch(`${eng.url}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        symbol,
        side: 'BUY',
        type: 'LIMIT',
        quantity: '0.010',
        price: '49000.00',
        clientOrderId: `w${++n}`,
      }),
    });
    statuses.push(res.status);
    const o = (await res.json()) as { orderId: number };
    await new Promise((r) => setTimeout(r, pauseMs));
    await fetch(`${eng.url}/api/orders/${o.orderId}`, { method: 'DELETE' });
  }
  return statuses;
}

async function rejectedOrders(eng: EngineProcess): Promise<unknown[]> {
  const orders = (await (await fetch(`${eng.url}/api/orders_state`)).json()) as {
    orders: Array<{ status: string; reason: string }>;
  };
  return orders.orders.filter((o) => o.status === 'REJECTED');
}

describe('request weight budget shared by market data and trading', () => {
  // The documented limit and window: 6,000 a minute per IP. At the default 1 s poll, REST market
  // data for 8 symbols alone would be 8 x 30 x 60 = 14,400 a minute.
  describe(`a ${RUN_SECONDS} s run with 8 symbols against 6,000 weight a minute`, () => {
    const LIMIT = 6000;
    let run: Run | undefined;
    beforeAll(async () => {
      run = await startRun({ interval: 'MINUTE', intervalNum: 1 }, LIMIT, '1000');
    });
    afterAll(() => stopRun(run));

    it(
      'never exceeds the limit, and market data keeps flowing',
      async () => {
        const { fake, eng } = run!;
        const polls = () => fake.count('GET', '/api/v3/depth');
        const pollsAtStart = polls();
        const statuses = await trade(eng, RUN_SECONDS * 1000, 400);
        expect(statuses.every((s) => s === 201)).toBe(true);
        expect(fake.weightRejections).toBe(0);
        expect(fake.log.filter((l) => l.status === 429)).toEqual([]);
        expect(fake.peakWeight).toBeLessThanOrEqual(LIMIT);
        // Market data used its share (60%) rather than sitting idle.
        expect(fake.peakWeight).toBeGreaterThan(LIMIT * 0.4);
        // Every symbol about every 4 s (8 x 30 x 60 s / 3,600), far fewer than every second; at
        // least once a minute each even on a slow machine.
        const n = polls() - pollsAtStart;
        expect(n).toBeGreaterThanOrEqual(SYMBOLS.length * Math.floor(RUN_SECONDS / 60));
        expect(n).toBeLessThan((SYMBOLS.length * RUN_SECONDS) / 2);
        expect(await rejectedOrders(eng)).toEqual([]);
        expect((await fetch(`${eng.url}/ready`)).status).toBe(200);
      },
      RUN_SECONDS * 1000 + 120_000,
    );
  });

  // The same with time scaled the way the docs allow a limit to be stated: a 2 s window
  // (exchangeInfo says SECOND x 2, the header is X-MBX-USED-WEIGHT-2S) standing for a minute and
  // polls every 50 ms, which alone would be 4,800 weight a window: many windows in ten seconds.
  describe('a scaled five-"minute" run with 8 symbols', () => {
    const WINDOW_MS = 2000;
    const LIMIT = 600;
    let run: Run | undefined;
    beforeAll(async () => {
      run = await startRun({ interval: 'SECOND', intervalNum: WINDOW_MS / 1000 }, LIMIT, '50');
    });
    afterAll(() => stopRun(run));

    it('never exceeds the limit, and market data keeps flowing', async () => {
      const { fake, eng } = run!;
      const polls = () => fake.count('GET', '/api/v3/depth');
      const pollsAtStart = polls();
      const statuses = await trade(eng, 5 * WINDOW_MS, 100);
      expect(statuses.every((s) => s === 201)).toBe(true);
      expect(fake.weightRejections).toBe(0);
      expect(fake.peakWeight).toBeLessThanOrEqual(LIMIT);
      expect(fake.peakWeight).toBeGreaterThan(LIMIT / 2);
      expect(fake.log.filter((l) => l.status === 429)).toEqual([]);
      // About one poll of every symbol a window (the budget allows 1.5 less what trading took),
      // far fewer than every 50 ms would be.
      expect(polls() - pollsAtStart).toBeGreaterThanOrEqual(4 * SYMBOLS.length);
      expect(polls() - pollsAtStart).toBeLessThan((5 * WINDOW_MS * SYMBOLS.length) / 50 / 4);
      expect(await rejectedOrders(eng)).toEqual([]);
      expect((await fetch(`${eng.url}/ready`)).status).toBe(200);
    });
  });
});
