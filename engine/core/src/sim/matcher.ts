// Simulated execution: our orders in price-time priority against the simulated market's book.
// An incoming order takes liquidity from the quoted levels (taker, at the level's price); a
// resting order is hit when the market trades through its price (maker, at its own price).
// Liquidity taken from a level stays taken until the next quote.
import type { Order, Side } from '../domain/order.ts';
import { remaining } from '../domain/order.ts';
import type { Level, Quote } from '../market/book.ts';

export type ExecEvent =
  | { kind: 'fill'; orderId: number; qty: number; price: number }
  | { kind: 'accepted'; orderId: number }
  | { kind: 'expired'; orderId: number; reason: string };

interface Resting {
  orderId: number;
  side: Side;
  price: number;
  remaining: number;
}

interface SymbolBook {
  bids: Resting[];
  asks: Resting[];
  quote: Quote | undefined;
  /** Quantity already taken from each level of the current quote. */
  takenBids: number[];
  takenAsks: number[];
}

/** Does `a` come before `b` in the queue of its side? */
function before(a: Resting, b: Resting): boolean {
  if (a.price !== b.price) return a.side === 'BUY' ? a.price > b.price : a.price < b.price;
  return a.orderId < b.orderId;
}

export class SimMatcher {
  private readonly books = new Map<string, SymbolBook>();

  private book(symbol: string): SymbolBook {
    let b = this.books.get(symbol);
    if (!b) {
      b = { bids: [], asks: [], quote: undefined, takenBids: [], takenAsks: [] };
      this.books.set(symbol, b);
    }
    return b;
  }

  quote(symbol: string): Quote | undefined {
    return this.books.get(symbol)?.quote;
  }

  /** Matches an incoming order; the events say what became of it. */
  submit(o: Order): ExecEvent[] {
    const b = this.book(o.symbol);
    const events: ExecEvent[] = [];
    let left = remaining(o);
    const levels = o.side === 'BUY' ? (b.quote?.asks ?? []) : (b.quote?.bids ?? []);
    const taken = o.side === 'BUY' ? b.takenAsks : b.takenBids;
    for (let i = 0; i < levels.length && left > 0; i++) {
      const lvl = levels[i]!;
      const crosses = o.type === 'MARKET' || (o.side === 'BUY' ? lvl.price <= o.price : lvl.price >= o.price);
      if (!crosses) break;
      const avail = lvl.qty - (taken[i] ?? 0);
      if (avail <= 0) continue;
      const q = Math.min(avail, left);
      taken[i] = (taken[i] ?? 0) + q;
      left -= q;
      events.push({ kind: 'fill', orderId: o.orderId, qty: q, price: lvl.price });
    }
    if (left > 0) {
      if (o.type === 'MARKET' || o.timeInForce === 'IOC') {
        events.push({
          kind: 'expired',
          orderId: o.orderId,
          reason: 'no more liquidity for an immediate order',
        });
      } else {
        if (events.length === 0) events.push({ kind: 'accepted', orderId: o.orderId });
        this.rest({ orderId: o.orderId, side: o.side, price: o.price, remaining: left }, o.symbol);
      }
    }
    return events;
  }

  /** Puts an open order (e.g. recovered from the WAL) back in the queue without matching it. */
  rest(r: Resting, symbol: string): void {
    const b = this.book(symbol);
    const side = r.side === 'BUY' ? b.bids : b.asks;
    let lo = 0;
    let hi = side.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (before(side[m]!, r)) lo = m + 1;
      else hi = m;
    }
    side.splice(lo, 0, r);
  }

  remove(symbol: string, orderId: number): void {
    const b = this.books.get(symbol);
    if (!b) return;
    for (const side of [b.bids, b.asks]) {
      const i = side.findIndex((r) => r.orderId === orderId);
      if (i >= 0) side.splice(i, 1);
    }
  }

  /** A new market quote: resting orders the market now trades through are filled. */
  onQuote(q: Quote): ExecEvent[] {
    const b = this.book(q.symbol);
    b.quote = q;
    b.takenBids = [];
    b.takenAsks = [];
    const events: ExecEvent[] = [];
    this.hitResting(b.bids, q.asks, b.takenAsks, q, 'SELL', events);
    this.hitResting(b.asks, q.bids, b.takenBids, q, 'BUY', events);
    return events;
  }

  private hitResting(
    queue: Resting[],
    levels: Level[],
    taken: number[],
    q: Quote,
    aggressor: Side,
    events: ExecEvent[],
  ): void {
    // Market trades of the opposite aggressor that print through our price add to the flow.
    let tradeFlow = q.trades.filter((t) => t.side === aggressor);
    while (queue.length > 0) {
      const r = queue[0]!;
      const crosses = (p: number) => (r.side === 'BUY' ? p <= r.price : p >= r.price);
      let filled = 0;
      for (let i = 0; i < levels.length && r.remaining > filled; i++) {
        const lvl = levels[i]!;
        if (!crosses(lvl.price)) break;
        const q2 = Math.min(lvl.qty - (taken[i] ?? 0), r.remaining - filled);
        if (q2 <= 0) continue;
        taken[i] = (taken[i] ?? 0) + q2;
        filled += q2;
      }
      tradeFlow = tradeFlow.map((t) => {
        if (!crosses(t.price) || r.remaining <= filled) return t;
        const q3 = Math.min(t.qty, r.remaining - filled);
        filled += q3;
        return { ...t, qty: t.qty - q3 };
      });
      if (filled === 0) break;
      events.push({ kind: 'fill', orderId: r.orderId, qty: filled, price: r.price });
      r.remaining -= filled;
      if (r.remaining > 0) break;
      queue.shift();
    }
  }
}
