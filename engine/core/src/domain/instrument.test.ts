import { describe, expect, it } from 'vitest';
import { SYMBOL_PATTERN, defaultInstrument, formatNotional, formatPrice, formatQty } from './instrument.ts';

describe('defaultInstrument', () => {
  it.each([
    { symbol: 'BTCUSDT', base: 'BTC', quote: 'USDT', priceDecimals: 2, qtyDecimals: 5, start: 5_000_000 },
    { symbol: 'ETHUSDT', base: 'ETH', quote: 'USDT', priceDecimals: 2, qtyDecimals: 4, start: 300_000 },
    { symbol: 'BNBUSDT', base: 'BNB', quote: 'USDT', priceDecimals: 2, qtyDecimals: 3, start: 60_000 },
    { symbol: 'SOLUSDT', base: 'SOL', quote: 'USDT', priceDecimals: 2, qtyDecimals: 3, start: 15_000 },
    { symbol: 'DOGEUSDC', base: 'DOGE', quote: 'USDC', priceDecimals: 2, qtyDecimals: 3, start: 10_000 },
    { symbol: 'ETHBTC', base: 'ETH', quote: 'BTC', priceDecimals: 2, qtyDecimals: 3, start: 10_000 },
    { symbol: 'XYZ', base: 'XYZ', quote: 'USDT', priceDecimals: 2, qtyDecimals: 3, start: 10_000 },
  ])('$symbol: $base/$quote', ({ symbol, base, quote, priceDecimals, qtyDecimals, start }) => {
    const i = defaultInstrument(symbol);
    expect(i).toMatchObject({ symbol, baseAsset: base, quoteAsset: quote, priceDecimals, qtyDecimals });
    expect(i.simStartPrice).toBe(start);
    expect(i.tickSize).toBe(1);
    expect(i.stepSize).toBe(1);
    // Binance's usual 5 quote units minimum notional, in price x quantity units.
    expect(i.minNotional).toBe(5n * 10n ** BigInt(priceDecimals + qtyDecimals));
    expect(SYMBOL_PATTERN.test(symbol)).toBe(true);
  });

  it('hands out copies', () => {
    const a = defaultInstrument('BTCUSDT');
    a.tickSize = 100;
    expect(defaultInstrument('BTCUSDT').tickSize).toBe(1);
  });

  it.each(['btcusdt', 'B', 'BTC-USDT', 'A'.repeat(21), ''])('%j is not a symbol', (s) => {
    expect(SYMBOL_PATTERN.test(s)).toBe(false);
  });
});

describe('formatting in instrument units', () => {
  const btc = defaultInstrument('BTCUSDT');
  it.each([
    { fn: () => formatPrice(btc, 5_000_050), want: '50000.50' },
    { fn: () => formatQty(btc, 1000), want: '0.01000' },
    { fn: () => formatQty(btc, 123_456_789n), want: '1234.56789' },
    // 50000.50 x 0.01000 = 500.005 quote units.
    { fn: () => formatNotional(btc, 5_000_050n * 1000n), want: '500.0050000' },
  ])('$want', ({ fn, want }) => {
    expect(fn()).toBe(want);
  });
});
