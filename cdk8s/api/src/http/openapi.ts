// An OpenAPI 3.1 document from routes of the contract. OpenAPI 3.1 schemas are JSON Schema
// 2020-12, which every schema of the contract already is, so they go in unchanged, except that a
// named schema (NAMED_SCHEMAS) becomes a reference to components.schemas; the rest is moving each
// part of a route to where OpenAPI wants it.
import type { JSONSchema } from 'json-schema-to-ts';
import type { Answer, Route } from './route.ts';
import { NAMED_SCHEMAS } from './schemas.ts';

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

const NAMES = new Map<unknown, string>(Object.entries(NAMED_SCHEMAS).map(([name, s]) => [s, name]));

/** `s` as JSON, each named schema in it (by identity) a $ref noted in `used`. */
function schemaJson(s: unknown, used: Set<string>, top = false): Json {
  const name = top ? undefined : NAMES.get(s);
  if (name !== undefined) {
    used.add(name);
    return { $ref: `#/components/schemas/${name}` };
  }
  if (Array.isArray(s)) return s.map((x) => schemaJson(x, used));
  if (typeof s === 'object' && s !== null)
    return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, schemaJson(v, used)]));
  return s as Json;
}

/** `/api/orders/:id` → `/api/orders/{id}`. */
export const openApiPath = (url: string): string => url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');

function parameters(
  where: 'path' | 'query' | 'header',
  schema: JSONSchema | undefined,
  used: Set<string>,
): Json[] {
  if (typeof schema !== 'object' || !schema.properties) return [];
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, s]) => {
    const { description, ...rest } = typeof s === 'object' ? s : {};
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(description !== undefined ? { description } : {}),
      schema: schemaJson(typeof s === 'object' ? rest : s, used),
    };
  });
}

function answer(a: Answer, used: Set<string>): Json {
  return {
    description: a.description,
    ...(a.headers
      ? {
          headers: Object.fromEntries(
            Object.entries(a.headers).map(([name, h]) => [
              name,
              { description: h.description, schema: schemaJson(h.schema, used) },
            ]),
          ),
        }
      : {}),
    content: { [a.mediaType ?? 'application/json']: { schema: schemaJson(a.schema, used) } },
    ...(a.links ? { links: schemaJson(a.links, used) } : {}),
  };
}

function operation(id: string, r: Route, o: DocumentOptions, used: Set<string>): Json {
  const params = [
    ...parameters('path', r.params, used),
    ...parameters('query', r.querystring, used),
    ...parameters('header', r.headers, used),
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
            content: { 'application/json': { schema: schemaJson(r.body, used) } },
          },
        }
      : {}),
    responses: Object.fromEntries(
      Object.entries(r.responses).map(([status, a]) => [status, answer(a, used)]),
    ),
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
  exchange: 'How the engine’s records compare with the exchange’s.',
};

/** The OpenAPI 3.1 document of `routes` (by operation id), in their order. */
export function openApiDocument(
  routes: Readonly<Record<string, Route>>,
  o: DocumentOptions,
): OpenApiDocument {
  const paths: Record<string, Record<string, Json>> = {};
  const used = new Set<string>();
  for (const [id, r] of Object.entries(routes)) {
    const path = (paths[openApiPath(r.url)] ??= {});
    path[r.method.toLowerCase()] = operation(id, r, o, used);
  }
  // Named schemas used inside named schemas are found while writing them out.
  const schemas: Record<string, Json> = {};
  for (let todo = [...used]; todo.length; todo = [...used].filter((n) => !(n in schemas)))
    for (const name of todo)
      schemas[name] = schemaJson(NAMED_SCHEMAS[name as keyof typeof NAMED_SCHEMAS], used, true);
  const tags = new Set(Object.values(routes).map((r) => r.tag));
  return {
    openapi: '3.1.0',
    info: { title: o.title, version: o.version, description: o.description },
    tags: Object.entries(TAGS)
      .filter(([name]) => tags.has(name as Route['tag']))
      .map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))),
      ...(o.security ? { securitySchemes: o.security.schemes } : {}),
    },
    ...(o.security ? { security: Object.keys(o.security.schemes).map((name) => ({ [name]: [] })) } : {}),
  };
}
