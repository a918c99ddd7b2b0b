import { formatScaled, parseScaledInt } from './decimal.ts';

/**
 * A tradable symbol. Prices are integers in units of 10^-priceDecimals and must be multiples
 * of tickSize; quantities likewise with qtyDecimals and stepSize (Binance's PRICE_FILTER and
 * LOT_SIZE). Notional = price * quantity is in units of 10^-(priceDecimals + qtyDecimals).
 */
export interface Instrument {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  priceDecimals: number;
  tickSize: number;
  qtyDecimals: number;
  stepSize: number;
  minQty: number;
  /** Minimum price * quantity, in notional units. */
  minNotional: bigint;
  /** Where the simulated market starts, in price units. */
  simStartPrice: number;
}

export { SYMBOL_PATTERN } from '@veloz/api/enums';

function known(
  symbol: string,
  base: string,
  priceDecimals: number,
  qtyDecimals: number,
  start: string,
): Instrument {
  return {
    symbol,
    baseAsset: base,
    quoteAsset: symbol.slice(base.length),
    priceDecimals,
    tickSize: 1,
    qtyDecimals,
    stepSize: 1,
    minQty: 1,
    minNotional: 5n * 10n ** BigInt(priceDecimals + qtyDecimals),
    simStartPrice: parseScaledInt(start, priceDecimals),
  };
}

const KNOWN: Record<string, Instrument> = {
  BTCUSDT: known('BTCUSDT', 'BTC', 2, 5, '50000.00'),
  ETHUSDT: known('ETHUSDT', 'ETH', 2, 4, '3000.00'),
  BNBUSDT: known('BNBUSDT', 'BNB', 2, 3, '600.00'),
  SOLUSDT: known('SOLUSDT', 'SOL', 2, 3, '150.00'),
};

/** Instrument defaults for the simulated market; exchange modes replace them with exchange info. */
export function defaultInstrument(symbol: string): Instrument {
  const k = KNOWN[symbol];
  if (k) return { ...k };
  const quote = ['USDT', 'USDC', 'BUSD', 'BTC', 'ETH'].find((q) => symbol.endsWith(q) && symbol !== q);
  const base = quote ? symbol.slice(0, -quote.length) : symbol;
  return { ...known(symbol, base, 2, 3, '100.00'), quoteAsset: quote ?? 'USDT' };
}

export function formatPrice(inst: Instrument, price: number): string {
  return formatScaled(price, inst.priceDecimals);
}

export function formatQty(inst: Instrument, qty: number | bigint): string {
  return formatScaled(qty, inst.qtyDecimals);
}

export function formatNotional(inst: Instrument, notional: bigint): string {
  return formatScaled(notional, inst.priceDecimals + inst.qtyDecimals);
}
