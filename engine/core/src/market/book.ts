/** One side of a market's top of book: levels best first, prices and quantities as integers. */
export interface Level {
  price: number;
  qty: number;
}

export interface Quote {
  symbol: string;
  bids: Level[];
  asks: Level[];
  /** Simulated trades since the previous quote (price, qty, aggressor side). */
  trades: Array<{ price: number; qty: number; side: 'BUY' | 'SELL' }>;
  /** Market update counter. */
  seq: number;
  time: number;
}

export function mid(q: Quote): number {
  const b = q.bids[0]?.price;
  const a = q.asks[0]?.price;
  if (b === undefined || a === undefined) return b ?? a ?? 0;
  return Math.round((a + b) / 2);
}
