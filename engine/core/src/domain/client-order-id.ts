// Which client order id an order has on the exchange, and which ids on the exchange are this
// engine's (ADR 0018; the format itself is in @veloz/api/client-order-id).
import {
  isDeskPairOrder,
  LEGACY_CLIENT_ORDER_ID,
  parseClientOrderId,
  type DeskPair,
} from '@veloz/api/client-order-id';
import type { Order } from './order.ts';

/**
 * Whether a client order id on the exchange is of the form engines without a desk id give their
 * orders (`veloz-<n>-<time>`): such an engine takes every one for its own.
 */
export function isOwnClientOrderId(cid: string): boolean {
  return LEGACY_CLIENT_ORDER_ID.test(cid);
}

/**
 * Which exchange orders are this engine's: with a desk id, only those naming this desk and pair
 * (another desk or pair on the same account is never adopted or canceled); without one, every
 * `veloz-<n>-<time>` id, as before desk ids.
 */
export function ownOrders(own: DeskPair | undefined): (cid: string) => boolean {
  return own ? (cid) => isDeskPairOrder(cid, own) : isOwnClientOrderId;
}

/**
 * The exchange's client order id: the one recorded with the order (ADR 0018), else the older
 * derived one, unique per order and per WAL (its creation time is part of it), which orders in a
 * WAL written before ids were recorded keep. An order adopted by reconciliation keeps the id it
 * has on the exchange as its own (no client may choose a `veloz-` or `vz-` id, and the engine's
 * generated ones have no second dash).
 */
export function exchangeClientOrderId(
  o: Pick<Order, 'orderId' | 'createdAt'> & { clientOrderId?: string; exchangeClientOrderId?: string },
): string {
  if (o.exchangeClientOrderId) return o.exchangeClientOrderId;
  if (
    o.clientOrderId !== undefined &&
    (isOwnClientOrderId(o.clientOrderId) || parseClientOrderId(o.clientOrderId) !== undefined)
  )
    return o.clientOrderId;
  return `veloz-${o.orderId}-${o.createdAt.toString(36)}`;
}
