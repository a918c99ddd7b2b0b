import type { OrderStatus } from './order-state.ts';

export type Side = 'BUY' | 'SELL';
export type OrderType = 'LIMIT' | 'MARKET';
export type TimeInForce = 'GTC' | 'IOC';

export const SIDES: readonly Side[] = ['BUY', 'SELL'];
export const ORDER_TYPES: readonly OrderType[] = ['LIMIT', 'MARKET'];
export const TIME_IN_FORCES: readonly TimeInForce[] = ['GTC', 'IOC'];

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
  createdAt: number;
  updatedAt: number;
  /** WAL sequence of the order's latest record. */
  lastSequence: number;
}

export function remaining(o: Order): number {
  return o.quantity - o.filledQuantity;
}
