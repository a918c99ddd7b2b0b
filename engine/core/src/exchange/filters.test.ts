import { describe, expect, it } from 'vitest';
import { formatPrice, formatQty } from '../domain/instrument.ts';
import { FilterError, instrumentFromExchangeInfo, notTrading, significantDecimals } from './filters.ts';

const info = (filters: Array<Record<string, string>>) => ({
  symbol: 'BTCUSDT',
  status: 'TRADING',
  baseAsset: 'BTC',
  quoteAsset: 'USDT',
  filters: filters.map((f) => ({ filterType: f['filterType']!, ...f })),
});

describe('exchange filters', () => {
  it.each([
    ['0.01000000', 2],
    ['1.00000000', 0],
    ['0.50000000', 1],
    ['0.00001000', 5],
    ['10', 0],
  ])('%s has %i significant decimals', (t, n) => expect(significantDecimals(t)).toBe(n));

  it('reads PRICE_FILTER, LOT_SIZE and NOTIONAL into integer units', () => {
    const inst = instrumentFromExchangeInfo(
      info([
        {
          filterType: 'PRICE_FILTER',
          minPrice: '0.01000000',
          maxPrice: '1000000.00000000',
          tickSize: '0.01000000',
        },
        { filterType: 'LOT_SIZE', minQty: '0.00010000', maxQty: '9000.00000000', stepSize: '0.00001000' },
        { filterType: 'NOTIONAL', minNotional: '5.00000000', maxNotional: '9000000.00000000' },
      ]),
    );
    expect(inst).toMatchObject({ priceDecimals: 2, tickSize: 1, qtyDecimals: 5, stepSize: 1, minQty: 10 });
    expect(inst.minNotional).toBe(5n * 10n ** 7n);
    expect(formatPrice(inst, 5_000_001)).toBe('50000.01');
    expect(formatQty(inst, 10)).toBe('0.00010');
  });

  it('keeps a tick that is not a power of ten as a multiple', () => {
    const inst = instrumentFromExchangeInfo(
      info([
        { filterType: 'PRICE_FILTER', tickSize: '0.50000000' },
        { filterType: 'LOT_SIZE', minQty: '0.00000000', stepSize: '0.02000000' },
        { filterType: 'MIN_NOTIONAL', minNotional: '10.00000000' },
      ]),
    );
    expect(inst).toMatchObject({ priceDecimals: 1, tickSize: 5, qtyDecimals: 2, stepSize: 2, minQty: 2 });
    expect(inst.minNotional).toBe(10n * 10n ** 3n);
  });

  it('refuses a symbol without price or lot filters', () => {
    expect(() => instrumentFromExchangeInfo(info([{ filterType: 'LOT_SIZE', stepSize: '0.001' }]))).toThrow(
      FilterError,
    );
  });

  it('reads a tick or step size of 0 as a disabled rule: any price the asset precision states', () => {
    const inst = instrumentFromExchangeInfo({
      ...info([
        {
          filterType: 'PRICE_FILTER',
          minPrice: '0.00000000',
          maxPrice: '0.00000000',
          tickSize: '0.00000000',
        },
        { filterType: 'LOT_SIZE', minQty: '0.00000000', maxQty: '9000.00000000', stepSize: '0' },
        { filterType: 'PERCENT_PRICE_BY_SIDE', bidMultiplierUp: '5' },
      ]),
      quoteAssetPrecision: 6,
    });
    expect(inst).toMatchObject({ priceDecimals: 6, tickSize: 1, qtyDecimals: 8, stepSize: 1, minQty: 1 });
    expect(formatPrice(inst, 50_000_123_456)).toBe('50000.123456');
  });

  it.each(['HALT', 'BREAK', 'END_OF_DAY', 'CANCEL_ONLY'])(
    'says why a %s symbol cannot be traded',
    (status) => {
      expect(notTrading({ symbol: 'BTCUSDT', status })).toBe(`BTCUSDT is ${status} on Binance, not TRADING`);
      expect(notTrading({ symbol: 'BTCUSDT', status: 'TRADING' })).toBeUndefined();
    },
  );
});
