// The OpenAPI documents pass an independent OpenAPI 3.1 validator (@seriousme/openapi-schema-
// validator, checked against the specification's own JSON schema), and it bites.
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { OPENAPI_FILES } from './openapi.ts';

describe('OpenAPI documents', () => {
  it.each(Object.entries(OPENAPI_FILES))('%s is a valid OpenAPI 3.1 document', async (_path, make) => {
    const v = new Validator();
    const res = await v.validate(structuredClone(make()));
    expect(res.errors).toBeUndefined();
    expect(res.valid).toBe(true);
    expect(v.version).toBe('3.1');
  });

  it('rejects a broken document (the validator bites)', async () => {
    const doc = structuredClone(OPENAPI_FILES['docs/openapi/engine.json']()) as {
      paths: Record<string, Record<string, { responses?: unknown; parameters?: unknown }>>;
    };
    const op = doc.paths['/api/orders/{id}']!['get']!;
    op.parameters = [{ name: 'id', in: 'path' }];
    const res = await new Validator().validate(doc);
    expect(res.valid).toBe(false);
  });

  it('declares the gateway’s API key, and only the open routes go without it', () => {
    const doc = OPENAPI_FILES['docs/openapi/gateway.json']() as {
      security: unknown;
      components: { securitySchemes: Record<string, Record<string, string>> };
      paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>;
    };
    expect(doc.components.securitySchemes).toMatchObject({
      bearer: { type: 'http', scheme: 'bearer' },
      apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
    });
    expect(doc.security).toEqual([{ bearer: [] }, { apiKey: [] }]);
    const open: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops)) {
        if (op.security !== undefined) {
          expect(op.security).toEqual([]);
          open.push(`${method.toUpperCase()} ${path}`);
        } else expect(op.responses['401'], `${method} ${path}`).toBeDefined();
      }
    expect(open.sort()).toEqual(['GET /health', 'GET /metrics', 'GET /openapi.json', 'GET /ready']);
    expect(doc.paths['/api/wal/backup']).toBeUndefined();
  });
});
