// Shapes of the Binance Spot REST answers the engine reads (decimal values are strings).

export type BinanceOrderStatus =
  | 'NEW'
  | 'PENDING_NEW'
  | 'PARTIALLY_FILLED'
  | 'FILLED'
  | 'CANCELED'
  | 'PENDING_CANCEL'
  | 'REJECTED'
  | 'EXPIRED'
  | 'EXPIRED_IN_MATCH';

export interface BinanceFill {
  price: string;
  qty: string;
  commission: string;
  commissionAsset: string;
  tradeId: number;
}

export interface BinanceOrder {
  symbol: string;
  orderId: number;
  clientOrderId: string;
  price: string;
  origQty: string;
  executedQty: string;
  cummulativeQuoteQty: string;
  status: BinanceOrderStatus;
  timeInForce: string;
  type: string;
  side: 'BUY' | 'SELL';
  /** Only in POST /api/v3/order answers with newOrderRespType=FULL. */
  fills?: BinanceFill[];
  /** DELETE /api/v3/order answers name the canceled order's client id here. */
  origClientOrderId?: string;
}

export interface BinanceTrade {
  symbol: string;
  id: number;
  orderId: number;
  price: string;
  qty: string;
  time: number;
}

export interface BinanceFilter {
  filterType: string;
  [key: string]: unknown;
}

export interface BinanceSymbolInfo {
  symbol: string;
  status: string;
  baseAsset: string;
  quoteAsset: string;
  filters: BinanceFilter[];
}

export interface BinanceExchangeInfo {
  serverTime: number;
  symbols: BinanceSymbolInfo[];
}

export interface BinanceDepth {
  lastUpdateId: number;
  bids: Array<[string, string]>;
  asks: Array<[string, string]>;
}

export interface BinancePublicTrade {
  id: number;
  price: string;
  qty: string;
  time: number;
  isBuyerMaker: boolean;
}

/** Error codes the engine acts on. */
export const ERR = {
  TOO_MANY_REQUESTS: -1003,
  TIMESTAMP_OUTSIDE_RECV_WINDOW: -1021,
  INVALID_SIGNATURE: -1022,
  UNKNOWN_ORDER_SENT: -2011,
  NO_SUCH_ORDER: -2013,
} as const;
