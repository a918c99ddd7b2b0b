// docs/openapi/{engine,gateway}.json: the OpenAPI 3.1 documents the engine and the gateway serve
// at GET /openapi.json, from the HTTP contract (cdk8s/api/src/http/contract.ts).
import prettier from '@prettier/sync';
import { join } from 'node:path';
import { engineDocument } from '@veloz/engine/http/openapi';
import { gatewayDocument } from '@veloz/gateway/openapi';
import type { OpenApiDocument } from '@veloz/api/http/openapi';

const ROOT = join(import.meta.dirname, '..', '..');

function file(path: string, doc: OpenApiDocument): string {
  const marked = {
    ...doc,
    'x-generated': `by npm run gen from the HTTP contract (cdk8s/api/src/http/contract.ts); edit that, not this file`,
  };
  // Formatted as `prettier --check` expects, so the generated file passes the repository's lint.
  const options = prettier.resolveConfig(join(ROOT, path)) ?? {};
  return prettier.format(JSON.stringify(marked), { ...options, filepath: path });
}

export const OPENAPI_FILES = {
  'docs/openapi/engine.json': engineDocument,
  'docs/openapi/gateway.json': gatewayDocument,
} as const;

export function openApiFiles(): Record<string, () => string> {
  return Object.fromEntries(
    Object.entries(OPENAPI_FILES).map(([path, doc]) => [path, () => file(path, doc())]),
  );
}
