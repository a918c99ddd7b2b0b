import { describe, expect, it } from 'vitest';
import { defaultInstrument } from '../domain/instrument.ts';
import { RiskEngine, RiskRejection, type Exposure, type OrderIntent, type RiskLimits } from './risk.ts';
import { TokenBucket } from '@veloz/common/token-bucket';

const btc = defaultInstrument('BTCUSDT'); // price 2 decimals, quantity 5 decimals
const none: Exposure = { openOrders: 0, position: 0, openBuy: 0, openSell: 0 };
const buy = (qty: number, price = 5_000_000): OrderIntent => ({
  instrument: btc,
  side: 'BUY' as const,
  quantity: qty,
  price,
});

function reason(limits: Partial<RiskLimits>, intent = buy(1000), exposure = none, halted = false): string {
  const r = new RiskEngine({ maxOpenOrders: 100, ...limits }, 1000, halted);
  try {
    r.check(intent, exposure);
    return 'OK';
  } catch (err) {
    if (err instanceof RiskRejection) return err.reason;
    throw err;
  }
}

describe('RiskEngine', () => {
  it.each([
    ['within every limit', {}, buy(1000), none, false, 'OK'],
    ['halted', {}, buy(1000), none, true, 'TRADING_HALTED'],
    ['quantity at the limit', { maxOrderQuantity: '0.01' }, buy(1000), none, false, 'OK'],
    ['quantity above the limit', { maxOrderQuantity: '0.01' }, buy(1001), none, false, 'MAX_ORDER_QUANTITY'],
    [
      'notional above the limit',
      { maxOrderNotional: '499.99' },
      buy(1000),
      none,
      false,
      'MAX_ORDER_NOTIONAL',
    ],
    ['notional at the limit', { maxOrderNotional: '500' }, buy(1000), none, false, 'OK'],
    ['below min notional', {}, buy(1, 100), none, false, 'MIN_NOTIONAL'],
    ['no market price', {}, buy(1000, 0), none, false, 'NO_MARKET_PRICE'],
    [
      'open orders at the limit',
      { maxOpenOrders: 2 },
      buy(1000),
      { ...none, openOrders: 2 },
      false,
      'MAX_OPEN_ORDERS',
    ],
    [
      'position counting open buys',
      { maxPosition: '0.03' },
      buy(1000),
      { ...none, position: 1000, openBuy: 1001 },
      false,
      'MAX_POSITION',
    ],
    [
      'selling reduces a long position',
      { maxPosition: '0.01' },
      { ...buy(2000), side: 'SELL' as const },
      { ...none, position: 1000 },
      false,
      'OK',
    ],
    [
      'short beyond the limit',
      { maxPosition: '0.01' },
      { ...buy(2001), side: 'SELL' as const },
      none,
      false,
      'MAX_POSITION',
    ],
  ])('%s', (_n, limits, intent, exposure, halted, expected) => {
    expect(reason(limits, intent, exposure, halted)).toBe(expected);
  });

  it('rate-limits with a token bucket and says when to retry', () => {
    let now = 0;
    const r = new RiskEngine({ maxOpenOrders: 100 }, 2, false, () => now);
    r.check(buy(1000), none);
    r.check(buy(1000), none);
    const err = (() => {
      try {
        r.check(buy(1000), none);
      } catch (e) {
        return e as RiskRejection;
      }
      return undefined;
    })();
    expect(err?.reason).toBe('RATE_LIMIT');
    expect(err?.retryAfterMs).toBe(500);
    now = 500;
    expect(() => r.check(buy(1000), none)).not.toThrow();
  });
});

describe('TokenBucket', () => {
  it('refills continuously up to the burst', () => {
    let now = 0;
    const b = new TokenBucket(10, 5, () => now);
    for (let i = 0; i < 5; i++) expect(b.tryTake()).toBe(true);
    expect(b.tryTake()).toBe(false);
    now = 100;
    expect(b.tryTake()).toBe(true);
    expect(b.tryTake()).toBe(false);
    now = 10_000;
    expect(b.waitMs(5)).toBe(0);
    expect(b.waitMs(6)).toBe(100);
  });
});
