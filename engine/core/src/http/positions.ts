// Positions as the API shows them (exact decimal strings) and as gauges (floats, for dashboards).
import type { Position } from '@veloz/api/http/contract';
import { formatNotional, formatPrice, formatQty } from '../domain/instrument.ts';
import type { Engine } from '../engine/engine.ts';

export function positionViews(engine: Engine): Position[] {
  const out: Position[] = [];
  for (const [key, p] of engine.state.positions) {
    const [strategy, symbol] = key.split('\u0000') as [string, string];
    const inst = engine.instruments.get(symbol);
    if (!inst) continue;
    const mark = engine.markPrice(symbol);
    const net = p.net;
    out.push({
      symbol,
      strategy,
      quantity: formatQty(inst, net),
      avgEntryPrice:
        net === 0 ? formatPrice(inst, 0) : formatPrice(inst, Number(p.openCost() / BigInt(Math.abs(net)))),
      markPrice: formatPrice(inst, mark),
      realizedPnl: formatNotional(inst, p.realized),
      unrealizedPnl: formatNotional(inst, mark ? p.unrealized(mark) : 0n),
      boughtQuantity: formatQty(inst, p.bought),
      soldQuantity: formatQty(inst, p.sold),
    });
  }
  return out;
}

export function updatePositionMetrics(engine: Engine): void {
  const m = engine.metrics;
  for (const [key, p] of engine.state.positions) {
    const [strategy, symbol] = key.split('\u0000') as [string, string];
    if (strategy) continue;
    const inst = engine.instruments.get(symbol);
    if (!inst) continue;
    const scale = 10 ** (inst.priceDecimals + inst.qtyDecimals);
    const mark = engine.markPrice(symbol);
    // Metrics are floats by nature; the exact values are in /api/positions.
    m.position.set({ symbol }, p.net / 10 ** inst.qtyDecimals);
    m.realizedPnl.set({ symbol }, Number(p.realized) / scale);
    m.unrealizedPnl.set({ symbol }, mark ? Number(p.unrealized(mark)) / scale : 0);
  }
  const counts = new Map<string, number>();
  for (const o of engine.state.orders.values()) counts.set(o.status, (counts.get(o.status) ?? 0) + 1);
  m.ordersByStatus.reset();
  for (const [status, n] of counts) m.ordersByStatus.set({ status }, n);
}
