import { describe, expect, it } from 'vitest';
import { splitDecimal, splitRisk } from './risk-split.ts';

describe('splitDecimal', () => {
  it.each([
    ['1', 3, '0.33333333'],
    ['10', 2, '5'],
    ['10', 3, '3.33333333'],
    ['0.5', 1, '0.5'],
    ['100000.25', 4, '25000.0625'],
    ['0', 5, '0'],
    // A finer limit keeps its own scale.
    ['0.0000000001', 1, '0.0000000001'],
    ['0.00000001', 2, '0'],
    ['99999999999999999999.99', 7, '14285714285714285714.28428571'],
  ])('%s / %d = %s, rounded down', (value, parts, want) => {
    expect(splitDecimal(value, parts)).toBe(want);
  });

  it('never hands out more than the limit: parts x share <= limit, and the remainder is below one unit per part', () => {
    for (const [value, parts] of [
      ['1', 3],
      ['7.77', 9],
      ['123456.789', 64],
    ] as const) {
      const scale = 10n ** 8n;
      const [i, f = ''] = value.split('.');
      const limit = BigInt(i! + f.padEnd(8, '0'));
      const [si, sf = ''] = splitDecimal(value, parts).split('.');
      const share = BigInt(si! + sf.padEnd(8, '0'));
      expect(share * BigInt(parts) <= limit).toBe(true);
      expect(limit - share * BigInt(parts) < BigInt(parts)).toBe(true);
      expect(scale).toBe(100000000n);
    }
  });

  it('names what it cannot split', () => {
    expect(() => splitDecimal('1e3', 2)).toThrow('cannot split the risk limit "1e3"');
    expect(() => splitDecimal('1', 0)).toThrow('into 0 parts');
  });
});

describe('splitRisk', () => {
  const risk = { maxOpenOrders: 1000, maxPosition: '1', maxOrderNotional: '100000' };

  it('gives each of 3 engines a third of every desk limit, rounded down', () => {
    expect(splitRisk({ pairs: 3, risk, orderRateLimit: 10 })).toEqual({
      maxOpenOrders: 333,
      maxPosition: '0.33333333',
      maxOrderNotional: '33333.33333333',
      orderRateLimit: 3,
    });
  });

  it('leaves one engine the whole desk, and a hibernated desk too (nothing to split)', () => {
    const whole = { maxOpenOrders: 1000, maxPosition: '1', maxOrderNotional: '100000', orderRateLimit: 10 };
    expect(splitRisk({ pairs: 1, risk, orderRateLimit: 10 })).toEqual(whole);
    expect(splitRisk({ pairs: 0, risk, orderRateLimit: 10 })).toEqual(whole);
  });

  it('keeps absent limits absent', () => {
    expect(splitRisk({ pairs: 2, risk: { maxOpenOrders: 4 }, orderRateLimit: 4 })).toEqual({
      maxOpenOrders: 2,
      maxPosition: undefined,
      maxOrderNotional: undefined,
      orderRateLimit: 2,
    });
  });

  it('refuses a split that leaves an engine no order at all', () => {
    expect(() => splitRisk({ pairs: 3, risk: { maxOpenOrders: 2 }, orderRateLimit: 10 })).toThrow(
      'risk.maxOpenOrders 2 cannot be split across 3 pairs: each engine needs at least 1',
    );
    expect(() => splitRisk({ pairs: 11, risk, orderRateLimit: 10 })).toThrow(
      'execution.orderRateLimit 10 cannot be split across 11 pairs',
    );
  });
});
