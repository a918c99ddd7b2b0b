import { describe, expect, it } from 'vitest';
import { FakeClock } from '@veloz/testing/fake-clock';
import { MARKET_POLL_WEIGHT, requestWeight } from './request-weights.ts';
import {
  BudgetExhaustedError,
  MARKET_SHARE,
  TRADING_SHARE,
  WeightBudget,
  WeightBudgets,
} from './weight-budget.ts';

const perMinute = (limit: number) => [
  { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit },
  { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 1 },
];

describe('request weight budget', () => {
  it("lets market data use its share of the window, then waits for the exchange's next window", async () => {
    const clock = new FakeClock(60_000 * 1000);
    const b = new WeightBudget(clock, perMinute(100));
    await b.take(30, 'market');
    await b.take(30, 'market');
    expect(b.waitFor(30, 'market')).toBeGreaterThan(59_000);
    let done = false;
    const waiting = b.take(30, 'market').then(() => (done = true));
    await clock.advance(30_000, 1000);
    expect(done).toBe(false);
    await clock.advance(31_000, 1000);
    await waiting;
    expect(done).toBe(true);
  });

  it('keeps the rest for trading, which market data cannot take', async () => {
    const clock = new FakeClock(60_000 * 1000);
    const b = new WeightBudget(clock, perMinute(100));
    await b.take(100 * MARKET_SHARE, 'market');
    expect(b.waitFor(1, 'market')).toBeGreaterThan(0);
    expect(b.waitFor(100 * (TRADING_SHARE - MARKET_SHARE), 'trading')).toBe(0);
    expect(b.waitFor(100 * (TRADING_SHARE - MARKET_SHARE) + 1, 'trading')).toBeGreaterThan(0);
  });

  it('refuses at once when the wait is longer than the caller allows', async () => {
    const b = new WeightBudget(new FakeClock(60_000 * 1000), perMinute(10));
    await expect(b.take(20, 'trading', 5000)).rejects.toBeInstanceOf(BudgetExhaustedError);
  });

  it("takes the exchange's count from the header of the window the request was sent in, only upwards", () => {
    const clock = new FakeClock(60_000 * 1000);
    const b = new WeightBudget(clock, perMinute(1000));
    const sent = b.mark();
    b.observe((h) => (h === 'x-mbx-used-weight-1m' ? '500' : null), sent);
    expect(b.usage()).toBe(0.5);
    b.observe(() => '100', sent);
    expect(b.usage()).toBe(0.5);
    // An answer to a request of the previous window says nothing about this one.
    void clock.advance(60_000, 60_000);
    b.observe(() => '900', sent);
    expect(b.usage()).toBe(0);
  });

  it('reads every REQUEST_WEIGHT limit of exchangeInfo with its header', () => {
    const b = new WeightBudget(new FakeClock(), [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'SECOND', intervalNum: 2, limit: 400 },
      { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61000 },
    ]);
    expect(b.limits).toEqual([{ windowMs: 2000, limit: 400 }]);
  });

  it('spaces a poll of 8 symbols to what the default limit allows market data', () => {
    const b = new WeightBudget(new FakeClock());
    expect(MARKET_POLL_WEIGHT).toBe(30);
    // 240 a poll, 3600 of 6000 a minute for market data: one poll every 4 s, not every second.
    expect(b.minIntervalMs(8 * MARKET_POLL_WEIGHT, 'market')).toBe(4000);
  });

  it('is one budget per host, whatever the path or the scheme of the same host', () => {
    const all = new WeightBudgets(new FakeClock());
    expect(all.for('https://api.binance.com')).toBe(all.for('https://API.binance.com/api'));
    expect(all.for('https://api.binance.com')).not.toBe(all.for('https://data-api.binance.vision'));
  });

  it.each([
    ['GET', '/api/v3/depth', { symbol: 'X', limit: 5 }, 5],
    ['GET', '/api/v3/depth', { symbol: 'X', limit: 1000 }, 50],
    ['GET', '/api/v3/openOrders', { symbol: 'X' }, 6],
    ['GET', '/api/v3/openOrders', {}, 80],
    ['GET', '/api/v3/myTrades', { symbol: 'X', orderId: 1 }, 5],
    ['POST', '/api/v3/order', { symbol: 'X' }, 1],
    ['GET', '/api/v3/exchangeInfo', {}, 20],
  ])('%s %s %j weighs %d', (method, path, params, weight) => {
    expect(requestWeight(method, path, params)).toBe(weight);
  });
});
