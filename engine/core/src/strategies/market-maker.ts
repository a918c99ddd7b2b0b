// Market maker: one bid and one ask around the mid, skewed against inventory, re-quoted when
// the market moves away from them.
import type { Instrument } from '../domain/instrument.ts';
import { mid, type Quote } from '../market/book.ts';
import { optionalPriceParam, priceParam, qtyParam, rejectUnknown } from './params.ts';
import type { StrategyContext, StrategyLogic } from './types.ts';

export interface MarketMakerParams {
  spread: number;
  quantity: number;
  maxInventory: number;
  requoteThreshold: number;
}

export function parseMarketMakerParams(p: Record<string, unknown>, inst: Instrument): MarketMakerParams {
  rejectUnknown(p, ['spread', 'quantity', 'maxInventory', 'requoteThreshold']);
  const spread = priceParam(p, 'spread', inst);
  const quantity = qtyParam(p, 'quantity', inst);
  return {
    spread,
    quantity,
    maxInventory: p['maxInventory'] === undefined ? quantity * 10 : qtyParam(p, 'maxInventory', inst),
    requoteThreshold:
      optionalPriceParam(p, 'requoteThreshold', inst) ?? Math.max(inst.tickSize, Math.floor(spread / 4)),
  };
}

export class MarketMakerStrategy implements StrategyLogic {
  private readonly params: MarketMakerParams;

  constructor(params: MarketMakerParams) {
    this.params = params;
  }

  onQuote(ctx: StrategyContext, q: Quote): void {
    const m = mid(q);
    if (!m) return;
    const tick = ctx.instrument.tickSize;
    const inv = ctx.position();
    const { spread, quantity, maxInventory, requoteThreshold } = this.params;
    const skew = Math.round(((inv / maxInventory) * spread) / 2 / tick) * tick;
    const bidPrice = Math.floor((m - spread / 2 - skew) / tick) * tick;
    const askPrice = Math.ceil((m + spread / 2 - skew) / tick) * tick;
    const want = {
      BUY: inv < maxInventory && bidPrice > 0 ? bidPrice : 0,
      SELL: inv > -maxInventory ? askPrice : 0,
    };
    const have = { BUY: false, SELL: false };
    for (const o of ctx.openOrders()) {
      const target = want[o.side];
      if (have[o.side] || !target || Math.abs(o.price - target) >= requoteThreshold) {
        ctx.cancel(o.orderId, 'market maker re-quote');
      } else {
        have[o.side] = true;
      }
    }
    if (!have.BUY && want.BUY) ctx.place('BUY', 'LIMIT', quantity, want.BUY);
    if (!have.SELL && want.SELL) ctx.place('SELL', 'LIMIT', quantity, want.SELL);
  }
}
