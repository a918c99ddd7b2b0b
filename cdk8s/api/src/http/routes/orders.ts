// Orders and the positions their fills make.
import { errorAnswer, route } from '../route.ts';
import {
  clientOrderIdParams,
  orderIdParams,
  orderSchema,
  ordersStateQuery,
  ordersStateResponse,
  placeOrderBody,
  positionsResponse,
} from '../schemas.ts';
import { badRequest, bodyErrors, unavailable } from './errors.ts';

const notFound = errorAnswer('No order has this id.');
const orderLinks = {
  GetOrder: { operationId: 'getOrder', parameters: { id: '$response.body#/orderId' } },
  CancelOrder: { operationId: 'cancelOrder', parameters: { id: '$response.body#/orderId' } },
} as const;
const retryAfter = {
  'Retry-After': {
    description: 'seconds until an order would pass the rate limit',
    schema: { type: 'integer' },
  },
} as const;

export const ORDER_ROUTES = {
  placeOrder: route({
    method: 'POST',
    url: '/api/orders',
    summary: 'Place an order',
    description:
      'Answers once the order’s WAL record is durable. A `clientOrderId` is unique per engine: within `VELOZ_IDEMPOTENCY_WINDOW` of the order’s creation (default 24 h, across restarts) a repeat returns the existing order (200), never a second one; after the window a repeat is refused (409).',
    tag: 'orders',
    scope: 'trading',
    body: placeOrderBody,
    responses: {
      200: {
        description: 'The existing order with this `clientOrderId` (an idempotent retry).',
        schema: orderSchema,
        links: orderLinks,
      },
      201: { description: 'The new order, durable.', schema: orderSchema, links: orderLinks },
      ...bodyErrors,
      409: errorAnswer(
        'The `clientOrderId` belongs to an order created before the idempotency window: it is not placed again; use a new `clientOrderId`.',
      ),
      422: errorAnswer(
        'A risk check rejected the order: `reason` names it (e.g. MAX_POSITION, TRADING_HALTED).',
      ),
      429: { ...errorAnswer('The order rate limit (`reason` RATE_LIMIT).'), headers: retryAfter },
      503: unavailable,
    },
  }),
  getOrder: route({
    method: 'GET',
    url: '/api/orders/:id',
    summary: 'One order',
    tag: 'orders',
    scope: 'trading',
    params: orderIdParams,
    responses: {
      200: { description: 'The order, as of its last durable record.', schema: orderSchema },
      400: badRequest,
      404: notFound,
      503: unavailable,
    },
  }),
  getOrderByClientId: route({
    method: 'GET',
    url: '/api/orders/client/:clientOrderId',
    summary: 'One order, by its clientOrderId',
    description:
      'Every order placed through the API is readable this way for `VELOZ_IDEMPOTENCY_WINDOW` after its creation, across restarts.',
    tag: 'orders',
    scope: 'trading',
    params: clientOrderIdParams,
    responses: {
      200: { description: 'The order, as of its last durable record.', schema: orderSchema },
      400: badRequest,
      404: errorAnswer('No order this engine still holds has this clientOrderId.'),
      503: unavailable,
    },
  }),
  cancelOrder: route({
    method: 'DELETE',
    url: '/api/orders/:id',
    summary: 'Cancel an order',
    tag: 'orders',
    scope: 'trading',
    params: orderIdParams,
    responses: {
      200: { description: 'The order as of its cancel, durable.', schema: orderSchema },
      400: badRequest,
      404: notFound,
      409: errorAnswer('The order is already filled, canceled, rejected or expired.'),
      503: unavailable,
    },
  }),
  ordersState: route({
    method: 'GET',
    url: '/api/orders_state',
    summary: 'Every order, with the WAL sequence it is as of',
    description:
      'Open orders, the last `VELOZ_ORDER_HISTORY` finished ones, and every order placed through the API within `VELOZ_IDEMPOTENCY_WINDOW`, by orderId. With `limit`, one page: follow `next` as `cursor` until it is null.',
    tag: 'orders',
    scope: 'trading',
    querystring: ordersStateQuery,
    responses: {
      200: { description: 'The orders by id.', schema: ordersStateResponse },
      400: badRequest,
      503: unavailable,
    },
  }),
  positions: route({
    method: 'GET',
    url: '/api/positions',
    summary: 'Positions and PnL by symbol and strategy',
    tag: 'orders',
    scope: 'trading',
    responses: {
      200: { description: 'The positions.', schema: positionsResponse },
      503: unavailable,
    },
  }),
} as const;
