// The contract's own rules: what every route must say, schemas that are valid JSON Schema 2020-12
// (OpenAPI 3.1's dialect), and request and answer types that follow the schemas.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ROUTES, routeKey, type Route, type Routes } from './contract.ts';
import type { AnswerOf, BodyOf, ParamsOf, QueryOf, ReplyOf } from './route.ts';
import { errorSchema, type ErrorBody, type Order, type Strategy, type WalStatus } from './schemas.ts';

const routes = Object.entries(ROUTES) as Array<[string, Route]>;

/** Every object schema inside `s` that lists properties, with where it is. */
function objectSchemas(s: unknown, at = ''): Array<[string, Record<string, unknown>]> {
  if (typeof s !== 'object' || s === null) return [];
  if (Array.isArray(s)) return s.flatMap((x, i) => objectSchemas(x, `${at}/${i}`));
  const o = s as Record<string, unknown>;
  const here: Array<[string, Record<string, unknown>]> = typeof o['properties'] === 'object' ? [[at, o]] : [];
  return [...here, ...Object.entries(o).flatMap(([k, v]) => objectSchemas(v, `${at}/${k}`))];
}

describe('the HTTP contract', () => {
  it('has one route per method and URL, each with its path parameters declared', () => {
    expect(new Set(routes.map(([, r]) => routeKey(r))).size).toBe(routes.length);
    for (const [id, r] of routes) {
      const inUrl = [...r.url.matchAll(/:(\w+)/g)].map((m) => m[1]).sort();
      const declared = Object.keys(
        (r.params as { properties?: object } | undefined)?.properties ?? {},
      ).sort();
      expect(declared, id).toEqual(inUrl);
    }
  });

  it('lists the errors a route’s inputs can cause', () => {
    for (const [id, r] of routes) {
      if (r.params || r.body) expect(r.responses[400], `${id} 400`).toBeDefined();
      if (r.body) {
        expect(r.responses[413], `${id} 413`).toBeDefined();
        expect(r.responses[415], `${id} 415`).toBeDefined();
      }
    }
  });

  it('answers every error with the one error body', () => {
    for (const [id, r] of routes)
      for (const [status, a] of Object.entries(r.responses))
        if (Number(status) >= 400 && id !== 'ready') expect(a.schema, `${id} ${status}`).toBe(errorSchema);
  });

  it('has schemas that are valid JSON Schema 2020-12', () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    addFormats.default(ajv);
    for (const [id, r] of routes) {
      for (const part of ['params', 'querystring', 'headers', 'body'] as const)
        if (r[part] !== undefined)
          expect(() => ajv.compile(r[part] as object), `${id} ${part}`).not.toThrow();
      for (const [status, a] of Object.entries(r.responses))
        expect(() => ajv.compile(a.schema as object), `${id} ${status}`).not.toThrow();
    }
  });

  it('names every property an answer has (fastify serializes only what the schema names)', () => {
    for (const [id, r] of routes) {
      if (id === 'openapi') continue;
      for (const [status, a] of Object.entries(r.responses))
        for (const [at, o] of objectSchemas(a.schema))
          expect(o['additionalProperties'], `${id} ${status} ${at}`).toBe(false);
    }
  });

  it('derives request and answer types from the schemas', () => {
    expectTypeOf<ParamsOf<Routes['getOrder']>>().toEqualTypeOf<{ id: string }>();
    expectTypeOf<QueryOf<Routes['ordersState']>['status']>().toEqualTypeOf<'open' | 'all' | undefined>();
    expectTypeOf<BodyOf<Routes['placeOrder']>['side']>().toEqualTypeOf<'BUY' | 'SELL'>();
    expectTypeOf<BodyOf<Routes['placeOrder']>['price']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<BodyOf<Routes['halt']>>().toEqualTypeOf<{ reason?: string }>();
    expectTypeOf<BodyOf<Routes['positions']>>().toEqualTypeOf<undefined>();
    expectTypeOf<AnswerOf<Routes['placeOrder'], 201>>().toEqualTypeOf<Order>();
    expectTypeOf<AnswerOf<Routes['getStrategy'], 200>>().toEqualTypeOf<Strategy>();
    expectTypeOf<AnswerOf<Routes['walStatus'], 200>>().toEqualTypeOf<WalStatus>();
    expectTypeOf<WalStatus['lastCheckpoint']>().toEqualTypeOf<{ sequence: number; time: string } | null>();
    expectTypeOf<WalStatus['error']>().toEqualTypeOf<string | null>();
    expectTypeOf<Strategy['lastErrorAt']>().toEqualTypeOf<number | null>();
    expectTypeOf<Order['status']>().toEqualTypeOf<
      | 'NEW'
      | 'SUBMITTED'
      | 'ACCEPTED'
      | 'PARTIALLY_FILLED'
      | 'FILLED'
      | 'PENDING_CANCEL'
      | 'CANCELED'
      | 'REJECTED'
      | 'EXPIRED'
      | 'UNKNOWN'
    >();
    expectTypeOf<keyof ReplyOf<Routes['cancelOrder']>>().toEqualTypeOf<200 | 400 | 404 | 409 | 503>();
    expectTypeOf<ReplyOf<Routes['cancelOrder']>[409]>().toEqualTypeOf<ErrorBody>();
  });
});
