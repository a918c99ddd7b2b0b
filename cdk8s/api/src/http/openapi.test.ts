// How a route becomes an OpenAPI operation (the documents themselves are checked by an
// independent validator in scripts/generators/openapi.test.ts).
import { describe, expect, it } from 'vitest';
import { openApiDocument, openApiPath } from './openapi.ts';
import { errorAnswer, route } from './route.ts';
import { orderSchema } from './schemas.ts';

const getThing = route({
  method: 'GET',
  url: '/api/things/:id/parts/:part',
  summary: 'a thing',
  tag: 'orders',
  scope: 'trading',
  params: {
    type: 'object',
    required: ['id', 'part'],
    properties: { id: { type: 'integer', description: 'its id' }, part: { type: 'string' } },
  },
  querystring: {
    type: 'object',
    required: ['q'],
    properties: { q: { type: 'string' }, r: { type: 'boolean' } },
  },
  responses: { 200: { description: 'it', schema: orderSchema }, 404: errorAnswer('none') },
});
const putThing = route({
  method: 'PUT',
  url: '/api/things/:id/parts/:part',
  summary: 'put a thing',
  tag: 'ops',
  scope: 'open',
  body: { type: 'object', properties: { n: { type: 'integer' } } },
  bodyRequired: false,
  responses: { 200: { description: 'ok', schema: { type: 'string' }, mediaType: 'text/plain' } },
});

describe('openApiDocument', () => {
  it.each([
    ['/api/orders/:id', '/api/orders/{id}'],
    ['/a/:x/b/:y_z', '/a/{x}/b/{y_z}'],
    ['/health', '/health'],
  ])('writes %s as %s', (url, path) => expect(openApiPath(url)).toBe(path));

  const doc = openApiDocument(
    { getThing, putThing },
    {
      title: 't',
      version: '1',
      description: 'd',
      security: {
        schemes: { key: { type: 'apiKey', in: 'header', name: 'X-K' } },
        open: (id) => id === 'putThing',
      },
    },
  ) as {
    paths: Record<string, Record<string, Record<string, unknown>>>;
    components: Record<string, unknown>;
    security: unknown;
    tags: Array<{ name: string }>;
  };
  const path = doc.paths['/api/things/{id}/parts/{part}']!;

  it('puts both methods of a path under it, each with its operation id and tag', () => {
    expect(Object.keys(path)).toEqual(['get', 'put']);
    expect(path['get']).toMatchObject({ operationId: 'getThing', summary: 'a thing', tags: ['orders'] });
    expect(doc.tags.map((t) => t.name)).toEqual(['ops', 'orders']);
  });

  it('makes path and query parameters of the params and querystring schemas', () => {
    expect(path['get']!['parameters']).toEqual([
      { name: 'id', in: 'path', required: true, description: 'its id', schema: { type: 'integer' } },
      { name: 'part', in: 'path', required: true, schema: { type: 'string' } },
      { name: 'q', in: 'query', required: true, schema: { type: 'string' } },
      { name: 'r', in: 'query', required: false, schema: { type: 'boolean' } },
    ]);
  });

  it('refers to named schemas, and declares only those it uses', () => {
    expect(path['get']!['responses']).toEqual({
      200: {
        description: 'it',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Order' } } },
      },
      404: {
        description: 'none',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    });
    expect(Object.keys(doc.components['schemas'] as object)).toEqual(['Error', 'Order']);
  });

  it('writes a body, a media type and the security of open and closed operations', () => {
    expect(path['put']).toMatchObject({
      requestBody: { required: false, content: { 'application/json': { schema: { type: 'object' } } } },
      responses: { 200: { content: { 'text/plain': { schema: { type: 'string' } } } } },
      security: [],
    });
    expect(path['get']!['security']).toBeUndefined();
    expect(doc.security).toEqual([{ key: [] }]);
  });
});
