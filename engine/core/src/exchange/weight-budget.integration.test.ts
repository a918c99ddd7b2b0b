// One request-weight budget for market data and trading, against the fake Binance's own count.
// Time is scaled the way the docs allow a limit to be stated: the fake's REQUEST_WEIGHT window is
// 2 s (exchangeInfo says SECOND x 2, the header is X-MBX-USED-WEIGHT-2S) and stands for a minute,
// so ten seconds are a five-minute run. The engine polls REST market data for 8 symbols every
// 50 ms, which alone would be 4,800 weight a window, while it places and cancels orders; the fake
// answers 429 to anything over its limit. The budget must keep every window under the limit,
// market data must keep flowing for every symbol, and no order may be refused for it.
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

const WINDOW_MS = 2000;
const LIMIT = 600;
const SYMBOLS: FakeSymbolSpec[] = Array.from({ length: 8 }, (_, i) => ({
  ...BTCUSDT,
  symbol: `S${i}USDT`,
  baseAsset: `S${i}`,
}));

describe('request weight budget shared by market data and trading', () => {
  let fake: FakeBinance;
  let dir: string;
  let eng: EngineProcess;

  beforeAll(async () => {
    fake = await FakeBinance.start({
      apiKey: KEY,
      apiSecret: SECRET,
      symbols: SYMBOLS,
      weightLimit: LIMIT,
      weightWindow: { interval: 'SECOND', intervalNum: WINDOW_MS / 1000 },
      enforceWeightLimit: true,
    });
    dir = await mkdtemp(join(tmpdir(), 'veloz-weight-'));
    eng = await startEngineProcess(
      fakeBinanceEngineEnv(fake, dir, {
        VELOZ_MARKET_SOURCE: 'binance_rest',
        VELOZ_MARKET_SYMBOL: SYMBOLS[0]!.symbol,
        VELOZ_SYMBOLS: SYMBOLS.slice(1)
          .map((s) => s.symbol)
          .join(','),
        VELOZ_BINANCE_POLL_INTERVAL: '50',
      }),
    );
  });

  afterAll(async () => {
    await eng?.kill('SIGKILL');
    await fake?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('never exceeds the limit in a scaled five-minute run with 8 symbols, and market data keeps flowing', async () => {
    const polls = () => fake.count('GET', '/api/v3/depth');
    const pollsAtStart = polls();
    const statuses: number[] = [];
    const end = Date.now() + 5 * WINDOW_MS;
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
      await new Promise((r) => setTimeout(r, 100));
      await fetch(`${eng.url}/api/orders/${o.orderId}`, { method: 'DELETE' });
    }
    expect(statuses.every((s) => s === 201)).toBe(true);
    expect(fake.weightRejections).toBe(0);
    expect(fake.peakWeight).toBeLessThanOrEqual(LIMIT);
    expect(fake.peakWeight).toBeGreaterThan(LIMIT / 2);
    expect(fake.log.filter((l) => l.status === 429)).toEqual([]);
    // About one poll of every symbol a window (the budget allows 1.5 less what trading took),
    // far fewer than every 50 ms would be.
    expect(polls() - pollsAtStart).toBeGreaterThanOrEqual(4 * SYMBOLS.length);
    expect(polls() - pollsAtStart).toBeLessThan((5 * WINDOW_MS * SYMBOLS.length) / 50 / 4);
    const orders = (await (await fetch(`${eng.url}/api/orders_state`)).json()) as {
      orders: Array<{ status: string; reason: string }>;
    };
    expect(orders.orders.filter((o) => o.status === 'REJECTED')).toEqual([]);
    expect((await fetch(`${eng.url}/ready`)).status).toBe(200);
  });
});
