// The closed sets of values that appear on the wire (engine HTTP API, WAL payloads, CRDs): one
// definition that the engine's domain, the WAL codec and the HTTP contract all import.

export const ORDER_STATUSES = [
  'NEW',
  'SUBMITTED',
  'ACCEPTED',
  'PARTIALLY_FILLED',
  'FILLED',
  'PENDING_CANCEL',
  'CANCELED',
  'REJECTED',
  'EXPIRED',
  'UNKNOWN',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export type Side = 'BUY' | 'SELL';
export type OrderType = 'LIMIT' | 'MARKET';
export type TimeInForce = 'GTC' | 'IOC';

export const SIDES: readonly Side[] = ['BUY', 'SELL'];
export const ORDER_TYPES: readonly OrderType[] = ['LIMIT', 'MARKET'];
export const TIME_IN_FORCES: readonly TimeInForce[] = ['GTC', 'IOC'];

export const STRATEGY_TYPES = ['grid', 'market_maker', 'momentum'] as const;
export type StrategyType = (typeof STRATEGY_TYPES)[number];

/** An exchange symbol as Binance spells it: upper-case letters and digits. */
export const SYMBOL_PATTERN = /^[A-Z0-9]{2,20}$/;
