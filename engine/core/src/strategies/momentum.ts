// Momentum: buys when the mid has risen by more than a threshold over the lookback window,
// sells when it has fallen, within a position cap; then waits a full window.
import type { Instrument } from '../domain/instrument.ts';
import { mid, type Quote } from '../market/book.ts';
import { intParam, priceParam, qtyParam, rejectUnknown } from './params.ts';
import type { StrategyContext, StrategyLogic } from './types.ts';

export interface MomentumParams {
  lookback: number;
  threshold: number;
  quantity: number;
  maxPosition: number;
}

export function parseMomentumParams(p: Record<string, unknown>, inst: Instrument): MomentumParams {
  rejectUnknown(p, ['lookback', 'threshold', 'quantity', 'maxPosition']);
  const quantity = qtyParam(p, 'quantity', inst);
  return {
    lookback: intParam(p, 'lookback', 2, 10_000, 20),
    threshold: priceParam(p, 'threshold', inst),
    quantity,
    maxPosition: p['maxPosition'] === undefined ? quantity * 5 : qtyParam(p, 'maxPosition', inst),
  };
}

export class MomentumStrategy implements StrategyLogic {
  private readonly params: MomentumParams;
  private readonly mids: number[] = [];
  private cooldown = 0;

  constructor(params: MomentumParams) {
    this.params = params;
  }

  onQuote(ctx: StrategyContext, q: Quote): void {
    const m = mid(q);
    if (!m) return;
    this.mids.push(m);
    if (this.mids.length > this.params.lookback) this.mids.shift();
    if (this.cooldown > 0) {
      this.cooldown -= 1;
      return;
    }
    if (this.mids.length < this.params.lookback) return;
    const move = m - this.mids[0]!;
    const pos = ctx.position();
    const { threshold, quantity, maxPosition } = this.params;
    if (move > threshold && pos + quantity <= maxPosition) ctx.place('BUY', 'MARKET', quantity);
    else if (move < -threshold && pos - quantity >= -maxPosition) ctx.place('SELL', 'MARKET', quantity);
    else return;
    this.cooldown = this.params.lookback;
  }
}
