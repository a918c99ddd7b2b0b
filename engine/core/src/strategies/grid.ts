// Grid: buy orders on the grid lines below the market, sell orders on the lines above it.
// Level-triggered: every quote compares the orders it has with the orders it wants.
import type { Instrument } from '../domain/instrument.ts';
import { mid, type Quote } from '../market/book.ts';
import { intParam, optionalPriceParam, priceParam, qtyParam, rejectUnknown } from './params.ts';
import type { StrategyContext, StrategyLogic } from './types.ts';

export interface GridParams {
  levels: number;
  spacing: number;
  quantity: number;
  center: number | undefined;
}

export function parseGridParams(p: Record<string, unknown>, inst: Instrument): GridParams {
  rejectUnknown(p, ['levels', 'spacing', 'quantity', 'center']);
  return {
    levels: intParam(p, 'levels', 1, 100, 5),
    spacing: priceParam(p, 'spacing', inst),
    quantity: qtyParam(p, 'quantity', inst),
    center: optionalPriceParam(p, 'center', inst),
  };
}

export class GridStrategy implements StrategyLogic {
  private readonly params: GridParams;
  private center: number | undefined;

  constructor(params: GridParams) {
    this.params = params;
    this.center = params.center;
  }

  onQuote(ctx: StrategyContext, q: Quote): void {
    const m = mid(q);
    const bestBid = q.bids[0]?.price;
    const bestAsk = q.asks[0]?.price;
    if (!m || bestBid === undefined || bestAsk === undefined) return;
    this.center ??= m - (m % ctx.instrument.tickSize);
    const want = new Map<string, { side: 'BUY' | 'SELL'; price: number }>();
    for (let i = 1; i <= this.params.levels; i++) {
      for (const price of [this.center - i * this.params.spacing, this.center + i * this.params.spacing]) {
        if (price <= 0) continue;
        if (price < bestAsk && price < m) want.set(`BUY@${price}`, { side: 'BUY', price });
        else if (price > bestBid && price > m) want.set(`SELL@${price}`, { side: 'SELL', price });
      }
    }
    for (const o of ctx.openOrders()) {
      const key = `${o.side}@${o.price}`;
      if (want.has(key)) want.delete(key);
      else ctx.cancel(o.orderId, 'grid line no longer on this side of the market');
    }
    for (const w of want.values()) ctx.place(w.side, 'LIMIT', this.params.quantity, w.price);
  }
}
