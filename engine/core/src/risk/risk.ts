// Pre-trade risk checks. Each rejection carries a typed reason that reaches the API caller.
import type { Instrument } from '../domain/instrument.ts';
import { formatNotional, formatQty } from '../domain/instrument.ts';
import type { Side } from '../domain/order.ts';
import { parseScaled } from '../domain/decimal.ts';
import { TokenBucket } from '@veloz/common/token-bucket';

export const RISK_REASONS = [
  'RATE_LIMIT',
  'TRADING_HALTED',
  'MAX_ORDER_QUANTITY',
  'MAX_ORDER_NOTIONAL',
  'MAX_OPEN_ORDERS',
  'MAX_POSITION',
  'MIN_NOTIONAL',
  'NO_MARKET_PRICE',
  'STRATEGY_RATE_LIMIT',
  'STRATEGY_MAX_ORDER_QUANTITY',
  'STRATEGY_MAX_POSITION',
] as const;
export type RiskReason = (typeof RISK_REASONS)[number];

export class RiskRejection extends Error {
  readonly reason: RiskReason;
  readonly retryAfterMs: number | undefined;

  constructor(reason: RiskReason, message: string, retryAfterMs?: number) {
    super(message);
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Limits as decimal strings in base/quote units (undefined = no limit). */
export interface RiskLimits {
  maxOrderQuantity?: string | undefined;
  maxOrderNotional?: string | undefined;
  maxOpenOrders: number;
  maxPosition?: string | undefined;
}

export interface OrderIntent {
  instrument: Instrument;
  side: Side;
  quantity: number;
  /** Price used for notional checks: the limit price, or the market price for market orders. */
  price: number;
}

export interface Exposure {
  openOrders: number;
  /** Signed position in quantity units. */
  position: number;
  /** Remaining quantity of open orders on each side. */
  openBuy: number;
  openSell: number;
}

export class RiskEngine {
  private readonly bucket: TokenBucket;
  private readonly limits: RiskLimits;
  halted: boolean;
  haltReason = '';

  constructor(limits: RiskLimits, orderRateLimit: number, halted: boolean, now?: () => number) {
    this.limits = limits;
    this.bucket = new TokenBucket(orderRateLimit, orderRateLimit, now);
    this.halted = halted;
  }

  /** Throws RiskRejection; on success one rate-limit token is spent. */
  check(o: OrderIntent, exposure: Exposure): void {
    const inst = o.instrument;
    if (this.halted) {
      throw new RiskRejection(
        'TRADING_HALTED',
        `trading is halted${this.haltReason ? `: ${this.haltReason}` : ''}`,
      );
    }
    const notional = BigInt(o.price) * BigInt(o.quantity);
    if (o.price === 0) throw new RiskRejection('NO_MARKET_PRICE', `no market price for ${inst.symbol} yet`);
    if (notional < inst.minNotional) {
      throw new RiskRejection(
        'MIN_NOTIONAL',
        `notional ${formatNotional(inst, notional)} is below the minimum ${formatNotional(inst, inst.minNotional)}`,
      );
    }
    checkQuantity(o, this.limits.maxOrderQuantity, 'MAX_ORDER_QUANTITY');
    if (this.limits.maxOrderNotional !== undefined) {
      const max = parseScaled(this.limits.maxOrderNotional, inst.priceDecimals + inst.qtyDecimals);
      if (notional > max) {
        throw new RiskRejection(
          'MAX_ORDER_NOTIONAL',
          `notional ${formatNotional(inst, notional)} exceeds the limit ${this.limits.maxOrderNotional}`,
        );
      }
    }
    if (exposure.openOrders >= this.limits.maxOpenOrders) {
      throw new RiskRejection(
        'MAX_OPEN_ORDERS',
        `${exposure.openOrders} orders are open (limit ${this.limits.maxOpenOrders})`,
      );
    }
    checkPosition(o, exposure, this.limits.maxPosition, 'MAX_POSITION');
    if (!this.bucket.tryTake()) {
      const wait = this.bucket.waitMs();
      throw new RiskRejection('RATE_LIMIT', `order rate limit exceeded; retry in ${wait} ms`, wait);
    }
  }
}

export function checkQuantity(o: OrderIntent, max: string | undefined, reason: RiskReason): void {
  if (max === undefined) return;
  const limit = parseScaled(max, o.instrument.qtyDecimals);
  if (BigInt(o.quantity) > limit) {
    throw new RiskRejection(
      reason,
      `quantity ${formatQty(o.instrument, o.quantity)} exceeds the limit ${max}`,
    );
  }
}

/** The worst-case position if this order and every open order on its side fill. */
export function checkPosition(
  o: OrderIntent,
  e: Exposure,
  max: string | undefined,
  reason: RiskReason,
): void {
  if (max === undefined) return;
  const limit = parseScaled(max, o.instrument.qtyDecimals);
  const worst = o.side === 'BUY' ? e.position + e.openBuy + o.quantity : e.position - e.openSell - o.quantity;
  if (BigInt(Math.abs(worst)) > limit) {
    throw new RiskRejection(
      reason,
      `position would reach ${formatQty(o.instrument, worst)} (limit ${max}, counting open orders)`,
    );
  }
}
