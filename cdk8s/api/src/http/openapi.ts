// An OpenAPI 3.1 document from routes of the contract. OpenAPI 3.1 schemas are JSON Schema
// 2020-12, which every schema of the contract already is, so they go in unchanged; the rest is
// moving each part of a route to where OpenAPI wants it.
import type { JSONSchema } from 'json-schema-to-ts';
import type { Answer, Route } from './route.ts';

/** An OpenAPI security scheme object: `type`, `description`, `scheme` or `in` and `name`. */
export type SecurityScheme = Record<string, string>;

export interface DocumentOptions {
  title: string;
  version: string;
  description: string;
  /** Schemes any one of which a route needs, unless `open` says it needs none. */
  security?: { schemes: Record<string, SecurityScheme>; open: (id: string, r: Route) => boolean };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type OpenApiDocument = { [key: string]: Json };

const json = (s: JSONSchema): Json => s as Json;

/** `/api/orders/:id` → `/api/orders/{id}`. */
export const openApiPath = (url: string): string => url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');

function parameters(where: 'path' | 'query' | 'header', schema: JSONSchema | undefined): Json[] {
  if (typeof schema !== 'object' || !schema.properties) return [];
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, s]) => {
    const { description, ...rest } = typeof s === 'object' ? s : {};
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(description !== undefined ? { description } : {}),
      schema: json(typeof s === 'object' ? rest : s),
    };
  });
}

function answer(a: Answer): Json {
  return {
    description: a.description,
    ...(a.headers
      ? {
          headers: Object.fromEntries(
            Object.entries(a.headers).map(([name, h]) => [
              name,
              { description: h.description, schema: json(h.schema) },
            ]),
          ),
        }
      : {}),
    content: { [a.mediaType ?? 'application/json']: { schema: json(a.schema) } },
  };
}

function operation(id: string, r: Route, o: DocumentOptions): Json {
  const params = [
    ...parameters('path', r.params),
    ...parameters('query', r.querystring),
    ...parameters('header', r.headers),
  ];
  return {
    operationId: id,
    summary: r.summary,
    ...(r.description !== undefined ? { description: r.description } : {}),
    tags: [r.tag],
    ...(params.length ? { parameters: params } : {}),
    ...(r.body !== undefined
      ? {
          requestBody: {
            required: r.bodyRequired ?? true,
            content: { 'application/json': { schema: json(r.body) } },
          },
        }
      : {}),
    responses: Object.fromEntries(Object.entries(r.responses).map(([status, a]) => [status, answer(a)])),
    ...(o.security?.open(id, r) ? { security: [] } : {}),
  };
}

const TAGS: Record<Route['tag'], string> = {
  ops: 'Health, readiness, metrics and this description; no credentials needed.',
  orders: 'Orders and the positions their fills make.',
  strategies: 'The strategies the engine runs.',
  trading: 'Halting and resuming new orders.',
  wal: 'The order write-ahead log.',
  stream: 'Engine events as server-sent events.',
};

/** The OpenAPI 3.1 document of `routes` (by operation id), in their order. */
export function openApiDocument(
  routes: Readonly<Record<string, Route>>,
  o: DocumentOptions,
): OpenApiDocument {
  const paths: Record<string, Record<string, Json>> = {};
  for (const [id, r] of Object.entries(routes)) {
    const path = (paths[openApiPath(r.url)] ??= {});
    path[r.method.toLowerCase()] = operation(id, r, o);
  }
  const used = new Set(Object.values(routes).map((r) => r.tag));
  return {
    openapi: '3.1.0',
    info: { title: o.title, version: o.version, description: o.description },
    tags: Object.entries(TAGS)
      .filter(([name]) => used.has(name as Route['tag']))
      .map(([name, description]) => ({ name, description })),
    paths,
    ...(o.security
      ? {
          components: { securitySchemes: o.security.schemes },
          security: Object.keys(o.security.schemes).map((name) => ({ [name]: [] })),
        }
      : {}),
  };
}
