// What one route of the engine's HTTP API is, as data: the engine registers it, the gateway
// proxies it, the OpenAPI document describes it and the request and answer types derive from it.
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { errorSchema } from './schemas.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * The credential scope the engine requires for the route (DESIGN §8, engine credentials; ADR 14):
 * trading for what the gateway serves to traders, admin for what the operator does (strategies,
 * halt and resume, the WAL's status and checkpoints), backup for the backup job, open for probes,
 * metrics and the API description. `@veloz/api/http/credentials` says which token opens which.
 */
export type Scope = 'trading' | 'admin' | 'backup' | 'open';

/** The route's group: one fastify plugin of the engine per tag, one tag per OpenAPI section. */
export type Tag = 'ops' | 'orders' | 'strategies' | 'trading' | 'wal' | 'stream' | 'exchange';

export interface Answer {
  readonly description: string;
  readonly schema: JSONSchema;
  /** application/json unless said. */
  readonly mediaType?: string;
  readonly headers?: {
    readonly [name: string]: { readonly description: string; readonly schema: JSONSchema };
  };
  /**
   * Operations this answer leads to (OpenAPI links): each names its operation id and where its
   * parameters come from, e.g. `{ id: '$response.body#/orderId' }`.
   */
  readonly links?: {
    readonly [name: string]: {
      readonly operationId: string;
      readonly parameters: { readonly [name: string]: string };
    };
  };
}

export interface Route {
  readonly method: Method;
  /** fastify syntax: `/api/orders/:id`. */
  readonly url: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: Tag;
  readonly scope: Scope;
  readonly params?: JSONSchema;
  readonly querystring?: JSONSchema;
  readonly headers?: JSONSchema;
  readonly body?: JSONSchema;
  /** false: a request may leave the body out, and is then handled as if it sent `{}`. */
  readonly bodyRequired?: false;
  /** Every status the route answers, errors included. */
  readonly responses: { readonly [status: number]: Answer };
}

/** Declares a route, keeping its literal type so that the request and answer types follow. */
export function route<const R extends Route>(r: R): R {
  return r;
}

/** An error answer: every error has the one error body. */
export function errorAnswer<const D extends string>(description: D) {
  return { description, schema: errorSchema } as const;
}

type Of<S> = S extends JSONSchema ? FromSchema<S, { keepDefaultedPropertiesOptional: true }> : undefined;

export type ParamsOf<R extends Route> = R extends { params: infer S } ? Of<S> : undefined;
export type QueryOf<R extends Route> = R extends { querystring: infer S } ? Of<S> : undefined;
export type HeadersOf<R extends Route> = R extends { headers: infer S } ? Of<S> : undefined;
export type BodyOf<R extends Route> = R extends { body: infer S } ? Of<S> : undefined;
/** The answer of route R with status S. */
export type AnswerOf<R extends Route, S extends keyof R['responses']> = R['responses'][S] extends {
  schema: infer X;
}
  ? Of<X>
  : never;
/** Every answer of route R by status, as fastify's `Reply` route generic takes it. */
export type ReplyOf<R extends Route> = { [S in keyof R['responses']]: AnswerOf<R, S> };

/** The schema fastify validates requests and serializes answers with. */
export function fastifySchema(r: Route): {
  params?: JSONSchema;
  querystring?: JSONSchema;
  headers?: JSONSchema;
  body?: JSONSchema;
  response: Record<string, JSONSchema>;
} {
  return {
    ...(r.params !== undefined ? { params: r.params } : {}),
    ...(r.querystring !== undefined ? { querystring: r.querystring } : {}),
    ...(r.headers !== undefined ? { headers: r.headers } : {}),
    ...(r.body !== undefined ? { body: r.body } : {}),
    response: Object.fromEntries(Object.entries(r.responses).map(([status, a]) => [status, a.schema])),
  };
}

/**
 * A request without a body, for a route whose body may be left out, is validated and handled as
 * `{}` (fastify would validate it as null, and a nullable schema would let ajv's type coercion
 * turn `false` or `0` into null too).
 */
export function absentBodyAsEmpty(req: { body: unknown }, _reply: unknown, done: () => void): void {
  if (req.body === undefined) req.body = {};
  done();
}

/** The options of the fastify route for `r`: method, URL, schema, and the hooks its contract needs. */
export function fastifyRoute(r: Route): {
  method: Route['method'];
  url: string;
  schema: ReturnType<typeof fastifySchema>;
  preValidation?: typeof absentBodyAsEmpty;
} {
  return {
    method: r.method,
    url: r.url,
    schema: fastifySchema(r),
    ...(r.bodyRequired === false ? { preValidation: absentBodyAsEmpty } : {}),
  };
}

/** `METHOD url`, the key a route is known by in tests and messages. */
export const routeKey = (r: Pick<Route, 'method' | 'url'>): string => `${r.method} ${r.url}`;
