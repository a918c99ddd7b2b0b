// Registers a route of the HTTP contract with its schemas, and types its handler from them: the
// request's params, query and body, and each answer by status, are the contract's.
import type {
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteHandlerMethod,
} from 'fastify';
import {
  fastifyRoute,
  type BodyOf,
  type HeadersOf,
  type ParamsOf,
  type QueryOf,
  type ReplyOf,
  type Route,
} from '@veloz/api/http/contract';

export interface ContractGeneric<R extends Route> {
  Params: ParamsOf<R>;
  Querystring: QueryOf<R>;
  Headers: HeadersOf<R>;
  Body: BodyOf<R>;
  Reply: ReplyOf<R>;
}

export type ContractHandler<R extends Route> = RouteHandlerMethod<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  ContractGeneric<R>
>;

export function serve<R extends Route>(app: FastifyInstance, r: R, handler: ContractHandler<R>): void {
  app.route<ContractGeneric<R>>({ ...fastifyRoute(r), handler });
}
