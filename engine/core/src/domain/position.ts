// A net position with FIFO lots: realized PnL is exact integer arithmetic in notional units
// (price units x quantity units). Exchange fees are part of it: a fee taken in the base asset
// leaves less to hold (and to sell), one taken in the quote asset lowers the realized PnL.
import type { Side } from './order.ts';

/** What a fee needs to know about its instrument (an Instrument fits). */
export interface FeeUnits {
  baseAsset: string;
  quoteAsset: string;
  priceDecimals: number;
  qtyDecimals: number;
}

/** A fee as the WAL records it: units of 10^-feeDecimals of `asset`. */
export interface Fee {
  asset: string;
  amount: number;
}

/** Fees are stated with 8 decimals (the WAL's COMMISSION_DECIMALS). */
export const FEE_DECIMALS = 8;

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
  /** Fees paid per asset (FEE_DECIMALS units); absent when none (and in older checkpoints). */
  fees?: Array<[string, string]>;
  /** Quantity units already taken off the position for base-asset fees. */
  baseFeeUnits?: number;
}

export class Position {
  /** Signed quantity: positive long, negative short. */
  net = 0;
  // Realized PnL is realizedBig + realizedSmall: a plain number while the sum is a safe integer
  // (every fill adds to it, and BigInt arithmetic allocates on each), the bigint past that.
  private realizedSmall = 0;
  private realizedBig = 0n;
  bought = 0;
  sold = 0;
  /** Fees paid per asset, in FEE_DECIMALS units, exactly as the exchange stated them. */
  readonly fees = new Map<string, bigint>();
  private baseFeeUnits = 0;
  private lots: Lot[] = [];
  private head = 0;

  /** Realized PnL in notional units, exact. */
  get realized(): bigint {
    return this.realizedBig + BigInt(this.realizedSmall);
  }

  set realized(v: bigint) {
    this.realizedBig = v;
    this.realizedSmall = 0;
  }

  /** Adds `perUnit` x `qty` to the realized PnL, exactly. */
  private realize(perUnit: number, qty: number): void {
    // A product or sum that is a safe integer is exact (anything larger rounds to 2^53 or more).
    const v = perUnit * qty;
    if (Number.isSafeInteger(v)) {
      const sum = this.realizedSmall + v;
      if (Number.isSafeInteger(sum)) {
        this.realizedSmall = sum;
        return;
      }
    }
    this.realizedBig += BigInt(perUnit) * BigInt(qty);
  }

  applyFill(side: Side, qty: number, price: number): void {
    if (side === 'BUY') this.bought += qty;
    else this.sold += qty;
    this.move(side, qty, price);
  }

  /**
   * A fee of the fill at `price`. In the base asset it is handed over out of the position, so
   * it counts as a sale at `price` whose proceeds never arrive; the position drops by the fee
   * rounded up to whole quantity units (never more is shown than can be sold). In the quote
   * asset it is a cost, rounded up to notional units. Any other asset (BNB) is only recorded.
   */
  applyFee(fee: Fee, price: number, units: FeeUnits): void {
    const total = (this.fees.get(fee.asset) ?? 0n) + BigInt(fee.amount);
    this.fees.set(fee.asset, total);
    if (fee.asset === units.baseAsset) {
      const due = Number(scaleUp(total, units.qtyDecimals - FEE_DECIMALS));
      const take = due - this.baseFeeUnits;
      if (take <= 0) return;
      this.baseFeeUnits = due;
      this.move('SELL', take, price);
      this.realized -= BigInt(take) * BigInt(price);
    } else if (fee.asset === units.quoteAsset) {
      this.realized -= scaleUp(BigInt(fee.amount), units.priceDecimals + units.qtyDecimals - FEE_DECIMALS);
    }
  }

  private move(side: Side, qty: number, price: number): void {
    const sign = side === 'BUY' ? 1 : -1;
    let rest = qty;
    // Close against the opposite lots first, oldest first.
    while (rest > 0 && this.net * sign < 0 && this.head < this.lots.length) {
      const lot = this.lots[this.head]!;
      const take = Math.min(lot.qty, rest);
      const perUnit = this.net > 0 ? price - lot.price : lot.price - price;
      this.realize(perUnit, take);
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
    const s: PositionSnapshot = {
      net: this.net,
      lots: this.lots.slice(this.head).map((l) => ({ ...l })),
      realized: this.realized.toString(),
      bought: this.bought,
      sold: this.sold,
    };
    if (this.fees.size > 0) s.fees = [...this.fees].map(([a, v]) => [a, v.toString()]);
    if (this.baseFeeUnits > 0) s.baseFeeUnits = this.baseFeeUnits;
    return s;
  }

  static restore(s: PositionSnapshot): Position {
    const p = new Position();
    p.net = s.net;
    p.lots = s.lots.map((l) => ({ ...l }));
    p.realized = BigInt(s.realized);
    p.bought = s.bought;
    p.sold = s.sold;
    for (const [a, v] of s.fees ?? []) p.fees.set(a, BigInt(v));
    p.baseFeeUnits = s.baseFeeUnits ?? 0;
    return p;
  }
}

/** `v` x 10^shift, rounded up when shift is negative. */
function scaleUp(v: bigint, shift: number): bigint {
  if (shift >= 0) return v * 10n ** BigInt(shift);
  const d = 10n ** BigInt(-shift);
  return (v + d - 1n) / d;
}
