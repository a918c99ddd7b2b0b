// Exchange filters from GET /api/v3/exchangeInfo as the engine's integer instruments: the tick
// size fixes the price decimals, the step size the quantity decimals (PRICE_FILTER, LOT_SIZE,
// NOTIONAL or the older MIN_NOTIONAL). The order path then enforces them exactly.
import { parseScaled, parseScaledInt } from '../domain/decimal.ts';
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

export function instrumentFromExchangeInfo(info: BinanceSymbolInfo): Instrument {
  const f = new Map(info.filters.map((x) => [x.filterType, x as Record<string, unknown>]));
  const tick = str(f.get('PRICE_FILTER'), 'tickSize');
  const step = str(f.get('LOT_SIZE'), 'stepSize');
  if (!tick || !step || /^0(\.0*)?$/.test(tick) || /^0(\.0*)?$/.test(step))
    throw new FilterError(
      `${info.symbol}: exchange info has no usable PRICE_FILTER tickSize or LOT_SIZE stepSize`,
    );
  const priceDecimals = significantDecimals(tick);
  const qtyDecimals = significantDecimals(step);
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
