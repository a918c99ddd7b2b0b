// A net position with FIFO lots: realized PnL is exact integer arithmetic in notional units
// (price units x quantity units).
import type { Side } from './order.ts';

export interface Lot {
  qty: number;
  price: number;
}

export interface PositionSnapshot {
  net: number;
  lots: Lot[];
  realized: string;
  bought: number;
  sold: number;
}

export class Position {
  /** Signed quantity: positive long, negative short. */
  net = 0;
  realized = 0n;
  bought = 0;
  sold = 0;
  private lots: Lot[] = [];
  private head = 0;

  applyFill(side: Side, qty: number, price: number): void {
    if (side === 'BUY') this.bought += qty;
    else this.sold += qty;
    const sign = side === 'BUY' ? 1 : -1;
    let rest = qty;
    // Close against the opposite lots first, oldest first.
    while (rest > 0 && this.net * sign < 0 && this.head < this.lots.length) {
      const lot = this.lots[this.head]!;
      const take = Math.min(lot.qty, rest);
      const perUnit = this.net > 0 ? price - lot.price : lot.price - price;
      this.realized += BigInt(perUnit) * BigInt(take);
      lot.qty -= take;
      rest -= take;
      this.net += sign * take;
      if (lot.qty === 0) this.head += 1;
    }
    if (rest > 0) {
      this.lots.push({ qty: rest, price });
      this.net += sign * rest;
    }
    if (this.head > 64 && this.head * 2 > this.lots.length) {
      this.lots = this.lots.slice(this.head);
      this.head = 0;
    }
  }

  /** Mark-to-market PnL of the open lots at `mark` (notional units). */
  unrealized(mark: number): bigint {
    let sum = 0n;
    const sign = this.net >= 0 ? 1n : -1n;
    for (let i = this.head; i < this.lots.length; i++) {
      const lot = this.lots[i]!;
      sum += BigInt(mark - lot.price) * BigInt(lot.qty) * sign;
    }
    return sum;
  }

  /** Cost of the open lots (notional units); divided by |net| gives the average entry price. */
  openCost(): bigint {
    let sum = 0n;
    for (let i = this.head; i < this.lots.length; i++)
      sum += BigInt(this.lots[i]!.price) * BigInt(this.lots[i]!.qty);
    return sum;
  }

  snapshot(): PositionSnapshot {
    return {
      net: this.net,
      lots: this.lots.slice(this.head).map((l) => ({ ...l })),
      realized: this.realized.toString(),
      bought: this.bought,
      sold: this.sold,
    };
  }

  static restore(s: PositionSnapshot): Position {
    const p = new Position();
    p.net = s.net;
    p.lots = s.lots.map((l) => ({ ...l }));
    p.realized = BigInt(s.realized);
    p.bought = s.bought;
    p.sold = s.sold;
    return p;
  }
}
