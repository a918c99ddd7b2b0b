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

/** GET /api/v3/myTrades: one trade of this account. */
export interface BinanceTrade {
  symbol: string;
  id: number;
  orderId: number;
  price: string;
  qty: string;
  commission: string;
  commissionAsset: string;
  time: number;
}

export interface BinanceFilter {
  filterType: string;
  [key: string]: unknown;
}

export interface BinanceSymbolInfo {
  symbol: string;
  /** TRADING, END_OF_DAY, HALT, BREAK or CANCEL_ONLY (enums.md). */
  status: string;
  baseAsset: string;
  quoteAsset: string;
  /** Decimal places of the assets; used when a filter's step is 0 (disabled). */
  baseAssetPrecision?: number;
  quoteAssetPrecision?: number;
  filters: BinanceFilter[];
}

export interface BinanceRateLimit {
  rateLimitType: string;
  interval: string;
  intervalNum: number;
  limit: number;
}

export interface BinanceExchangeInfo {
  serverTime: number;
  rateLimits: BinanceRateLimit[];
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
