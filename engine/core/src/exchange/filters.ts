// Exchange filters from GET /api/v3/exchangeInfo as the engine's integer instruments: the tick
// size fixes the price decimals, the step size the quantity decimals (PRICE_FILTER, LOT_SIZE,
// NOTIONAL or the older MIN_NOTIONAL). The order path then enforces them exactly. A tick or step
// of 0 disables that rule (filters.md): any price (quantity) the asset's precision can state.
import { formatScaled, parseScaled, parseScaledInt } from '../domain/decimal.ts';
import { defaultInstrument, type Instrument } from '../domain/instrument.ts';
import type { BinanceSymbolInfo } from './binance-types.ts';

export class FilterError extends Error {}

/** Decimal places that matter in "0.01000000" (2) or "1.00000000" (0). */
export function significantDecimals(text: string): number {
  const frac = text.split('.')[1] ?? '';
  return frac.replace(/0+$/, '').length;
}

function str(filter: Record<string, unknown> | undefined, key: string): string | undefined {
  const v = filter?.[key];
  return typeof v === 'string' ? v : undefined;
}

/** Why a symbol cannot be traded now (its status is not TRADING), or undefined when it can. */
export function notTrading(info: Pick<BinanceSymbolInfo, 'symbol' | 'status'>): string | undefined {
  return info.status === 'TRADING' ? undefined : `${info.symbol} is ${info.status} on Binance, not TRADING`;
}

const ZERO = /^0(\.0*)?$/;
// exchangeInfo states asset precisions; Binance's own is 8 decimals where it says nothing.
const DEFAULT_PRECISION = 8;

/** Decimals and step (in those decimals) of a filter size; a size of 0 falls back to `precision`. */
function grid(size: string, precision: number): { decimals: number; step: string } {
  return ZERO.test(size)
    ? { decimals: precision, step: formatScaled(1, precision) }
    : { decimals: significantDecimals(size), step: size };
}

export function instrumentFromExchangeInfo(info: BinanceSymbolInfo): Instrument {
  const f = new Map(info.filters.map((x) => [x.filterType, x as Record<string, unknown>]));
  const tickText = str(f.get('PRICE_FILTER'), 'tickSize');
  const stepText = str(f.get('LOT_SIZE'), 'stepSize');
  if (!tickText || !stepText)
    throw new FilterError(`${info.symbol}: exchange info has no PRICE_FILTER tickSize or LOT_SIZE stepSize`);
  const price = grid(tickText, info.quoteAssetPrecision ?? DEFAULT_PRECISION);
  const qty = grid(stepText, info.baseAssetPrecision ?? DEFAULT_PRECISION);
  const tick = price.step;
  const step = qty.step;
  const priceDecimals = price.decimals;
  const qtyDecimals = qty.decimals;
  const minQtyText = str(f.get('LOT_SIZE'), 'minQty') ?? step;
  const minNotionalText =
    str(f.get('NOTIONAL'), 'minNotional') ?? str(f.get('MIN_NOTIONAL'), 'minNotional') ?? '0';
  try {
    const stepSize = parseScaledInt(step, qtyDecimals);
    return {
      symbol: info.symbol,
      baseAsset: info.baseAsset,
      quoteAsset: info.quoteAsset,
      priceDecimals,
      tickSize: parseScaledInt(tick, priceDecimals),
      qtyDecimals,
      stepSize,
      minQty: Math.max(stepSize, parseScaledInt(minQtyText, qtyDecimals)),
      minNotional: parseScaled(minNotionalText, priceDecimals + qtyDecimals),
      simStartPrice: defaultInstrument(info.symbol).simStartPrice,
    };
  } catch (err) {
    throw new FilterError(`${info.symbol}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** An exchange decimal (often with 8 places of trailing zeros) in instrument units. */
export function exchangeUnits(text: string, decimals: number): number {
  return parseScaledInt(text, decimals);
}
