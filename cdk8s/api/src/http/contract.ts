// The engine's HTTP API, defined once. The engine registers these routes (one fastify plugin per
// tag), the gateway proxies or serves each of them or says why not, the operator reads the answer
// types, and docs/openapi/*.json are generated from them. Adding a route here without serving it
// in the engine and deciding about it in the gateway fails their route tests.
import type { Route } from './route.ts';
import { EXCHANGE_ROUTES } from './routes/exchange.ts';
import { OPS_ROUTES } from './routes/ops.ts';
import { ORDER_ROUTES } from './routes/orders.ts';
import { STRATEGY_ROUTES } from './routes/strategies.ts';
import { STREAM_ROUTES } from './routes/stream.ts';
import { TRADING_ROUTES } from './routes/trading.ts';
import { WAL_ROUTES } from './routes/wal.ts';

/** The version of this HTTP API (the OpenAPI document's `info.version`). */
export const HTTP_API_VERSION = '0.1.0';

/** Every route of the engine, by operation id. */
export const ROUTES = {
  ...OPS_ROUTES,
  ...ORDER_ROUTES,
  ...STRATEGY_ROUTES,
  ...TRADING_ROUTES,
  ...WAL_ROUTES,
  ...STREAM_ROUTES,
  ...EXCHANGE_ROUTES,
} as const satisfies Record<string, Route>;

export type Routes = typeof ROUTES;
export type RouteId = keyof Routes;

export type {
  ErrorBody,
  Halt,
  Health,
  Order,
  OrdersState,
  PlaceOrderBody,
  Position,
  Readiness,
  Reconciliation,
  ReconciliationDifference,
  Strategy,
  StrategyBody,
  WalStatus,
} from './schemas.ts';
export type { AnswerOf, BodyOf, HeadersOf, ParamsOf, QueryOf, ReplyOf, Route, Scope, Tag } from './route.ts';
export { fastifyRoute, fastifySchema, routeKey } from './route.ts';
