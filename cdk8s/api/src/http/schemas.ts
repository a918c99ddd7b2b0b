// JSON schemas of the engine's HTTP API (the gateway serves the same ones).
import { ORDER_STATUSES } from '../enums.ts';
import { STRATEGY_TYPES } from '../enums.ts';

const decimal = { type: 'string', pattern: '^\\d{1,20}(\\.\\d{1,18})?$' } as const;
const signedDecimal = { type: 'string', pattern: '^-?\\d{1,40}(\\.\\d{1,36})?$' } as const;

export const errorSchema = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    field: { type: 'string' },
    reason: { type: 'string' },
  },
  required: ['error'],
} as const;

export const placeOrderBody = {
  type: 'object',
  additionalProperties: false,
  required: ['symbol', 'side', 'type', 'quantity'],
  properties: {
    symbol: { type: 'string', pattern: '^[A-Z0-9]{2,20}$' },
    side: { type: 'string', enum: ['BUY', 'SELL'] },
    type: { type: 'string', enum: ['LIMIT', 'MARKET'] },
    quantity: decimal,
    price: decimal,
    timeInForce: { type: 'string', enum: ['GTC', 'IOC'] },
    clientOrderId: { type: 'string', minLength: 1, maxLength: 36 },
  },
} as const;

export const orderSchema = {
  type: 'object',
  properties: {
    orderId: { type: 'integer' },
    clientOrderId: { type: 'string' },
    symbol: { type: 'string' },
    side: { type: 'string' },
    type: { type: 'string' },
    timeInForce: { type: 'string' },
    status: { type: 'string', enum: ORDER_STATUSES },
    quantity: { type: 'string' },
    price: { type: 'string' },
    filledQuantity: { type: 'string' },
    avgPrice: { type: 'string' },
    strategy: { type: 'string' },
    reason: { type: 'string' },
    exchangeOrderId: { type: 'string' },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
    lastSequence: { type: 'integer' },
  },
} as const;

export const orderIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1 } },
} as const;

export const ordersStateResponse = {
  type: 'object',
  properties: {
    orders: { type: 'array', items: orderSchema },
    lastSequence: { type: 'integer' },
  },
} as const;

export const positionSchema = {
  type: 'object',
  properties: {
    symbol: { type: 'string' },
    strategy: { type: 'string' },
    quantity: signedDecimal,
    avgEntryPrice: { type: 'string' },
    markPrice: { type: 'string' },
    realizedPnl: signedDecimal,
    unrealizedPnl: signedDecimal,
    boughtQuantity: { type: 'string' },
    soldQuantity: { type: 'string' },
  },
} as const;

export const strategyNameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$' } },
} as const;

export const strategyBody = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'symbol', 'version'],
  properties: {
    type: { type: 'string', enum: STRATEGY_TYPES },
    symbol: { type: 'string', pattern: '^[A-Z0-9]{2,20}$' },
    params: { type: 'object' },
    version: { type: 'integer', minimum: 0 },
    enabled: { type: 'boolean', default: true },
    risk: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxPosition: decimal,
        maxOrderQuantity: decimal,
        maxOrdersPerSecond: { type: 'integer', minimum: 1, maximum: 100000 },
      },
    },
  },
} as const;

export const strategySchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    type: { type: 'string' },
    symbol: { type: 'string' },
    version: { type: 'integer' },
    enabled: { type: 'boolean' },
    state: { type: 'string' },
    params: { type: 'object', additionalProperties: true },
    risk: { type: 'object', additionalProperties: true },
    position: { type: 'string' },
    realizedPnl: { type: 'string' },
    unrealizedPnl: { type: 'string' },
    ordersPlaced: { type: 'integer' },
    openOrders: { type: 'integer' },
    errors: { type: 'integer' },
    lastError: { type: 'string' },
    lastErrorAt: { type: ['integer', 'null'] },
  },
} as const;
