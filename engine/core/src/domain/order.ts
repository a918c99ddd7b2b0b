import type { OrderStatus } from './order-state.ts';

import type { OrderType, Side, TimeInForce } from '@veloz/api/enums';

export {
  SIDES,
  ORDER_TYPES,
  TIME_IN_FORCES,
  type Side,
  type OrderType,
  type TimeInForce,
} from '@veloz/api/enums';

/** An order as the engine holds it: every number is an integer in the instrument's units. */
export interface Order {
  orderId: number;
  clientOrderId: string;
  symbol: string;
  side: Side;
  type: OrderType;
  timeInForce: TimeInForce;
  /** Limit price in price units; 0 for market orders. */
  price: number;
  quantity: number;
  filledQuantity: number;
  /** Sum of fill price * fill quantity, for the average price. */
  filledNotional: bigint;
  status: OrderStatus;
  /** Strategy that placed the order; empty for orders placed through the API. */
  strategy: string;
  reason: string;
  exchangeOrderId: string;
  /** Its client order id on the exchange when recorded with it (ADR 0018); else derived. */
  exchangeClientOrderId?: string;
  createdAt: number;
  updatedAt: number;
  /** WAL sequence of the order's latest record. */
  lastSequence: number;
}

export function remaining(o: Order): number {
  return o.quantity - o.filledQuantity;
}
