// Checks every Binance answer the engine reads against the fields it relies on (JSON Schema,
// extra fields allowed: Binance adds fields without notice). An answer that does not fit is not
// guessed at: the caller gets a BinanceUnknownError, so a new order whose answer cannot be read
// stays UNKNOWN until a query says what happened.
import { Ajv, type ValidateFunction } from 'ajv';
import type {
  BinanceDepth,
  BinanceExchangeInfo,
  BinanceOrder,
  BinancePublicTrade,
  BinanceTrade,
} from './binance-types.ts';

export type Parser<T> = (body: unknown) => T;

/** The answer has not the shape the docs give it. */
export class AnswerShapeError extends Error {}

const decimal = { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?$' } as const;
const int = { type: 'integer' } as const;
const str = { type: 'string' } as const;
const obj = (properties: Record<string, unknown>, required = Object.keys(properties)) => ({
  type: 'object',
  properties,
  required,
});
const list = (items: unknown) => ({ type: 'array', items });

const fill = obj({ price: decimal, qty: decimal, commission: decimal, commissionAsset: str, tradeId: int });
const order = obj(
  {
    symbol: str,
    orderId: int,
    clientOrderId: str,
    origClientOrderId: str,
    price: decimal,
    origQty: decimal,
    executedQty: decimal,
    cummulativeQuoteQty: decimal,
    status: {
      enum: [
        'NEW',
        'PENDING_NEW',
        'PARTIALLY_FILLED',
        'FILLED',
        'CANCELED',
        'PENDING_CANCEL',
        'REJECTED',
        'EXPIRED',
        'EXPIRED_IN_MATCH',
      ],
    },
    timeInForce: str,
    type: str,
    side: { enum: ['BUY', 'SELL'] },
    fills: list(fill),
  },
  ['symbol', 'orderId', 'clientOrderId', 'price', 'origQty', 'executedQty', 'status', 'type', 'side'],
);
const trade = obj({
  symbol: str,
  id: int,
  orderId: int,
  price: decimal,
  qty: decimal,
  commission: decimal,
  commissionAsset: str,
  time: int,
});
const filter = { type: 'object', properties: { filterType: str }, required: ['filterType'] };
const exchangeInfo = obj({
  serverTime: int,
  rateLimits: list(obj({ rateLimitType: str, interval: str, intervalNum: int, limit: int })),
  symbols: list(
    obj(
      {
        symbol: str,
        status: str,
        baseAsset: str,
        quoteAsset: str,
        baseAssetPrecision: int,
        quoteAssetPrecision: int,
        filters: list(filter),
      },
      ['symbol', 'status', 'baseAsset', 'quoteAsset', 'filters'],
    ),
  ),
});
const level = { type: 'array', items: [decimal, decimal], minItems: 2 };
const depth = obj({ lastUpdateId: int, bids: list(level), asks: list(level) });
const publicTrade = obj({
  id: int,
  price: decimal,
  qty: decimal,
  time: int,
  isBuyerMaker: { type: 'boolean' },
});
const account = obj(
  {
    canTrade: { type: 'boolean' },
    balances: list(obj({ asset: str, free: decimal, locked: decimal })),
  },
  ['canTrade', 'balances'],
);

export interface BinanceAccount {
  canTrade: boolean;
  balances: Array<{ asset: string; free: string; locked: string }>;
}

const ajv = new Ajv({ allErrors: false, strict: false });

function parser<T>(what: string, schema: object): Parser<T> {
  let validate: ValidateFunction | undefined;
  return (body) => {
    validate ??= ajv.compile(schema);
    if (validate(body)) return body as T;
    const e = validate.errors?.[0];
    throw new AnswerShapeError(
      `${what}: ${e ? `${e.instancePath || '/'} ${e.message ?? ''}` : 'not understood'}`,
    );
  };
}

export const parse = {
  order: parser<BinanceOrder>('order', order),
  orders: parser<BinanceOrder[]>('orders', list(order)),
  trades: parser<BinanceTrade[]>('account trades', list(trade)),
  exchangeInfo: parser<BinanceExchangeInfo>('exchange info', exchangeInfo),
  serverTime: parser<{ serverTime: number }>('server time', obj({ serverTime: int })),
  depth: parser<BinanceDepth>('order book', depth),
  publicTrades: parser<BinancePublicTrade[]>('recent trades', list(publicTrade)),
  account: parser<BinanceAccount>('account', account),
  any: ((body: unknown) => body) as Parser<unknown>,
};
