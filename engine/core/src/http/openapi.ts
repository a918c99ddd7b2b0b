// The engine's OpenAPI document: every route of the contract (docs/openapi/engine.json).
import { HTTP_API_VERSION, ROUTES } from '@veloz/api/http/contract';
import { openApiDocument, type OpenApiDocument } from '@veloz/api/http/openapi';

export function engineDocument(): OpenApiDocument {
  return openApiDocument(ROUTES, {
    title: 'VeloZ engine API',
    version: HTTP_API_VERSION,
    description: [
      'The HTTP API of one VeloZ trading engine (`veloz engine`). Prices and quantities are decimal strings, as on Binance.',
      'Every error answer is `{"error": …}`, with `field` naming a bad request field or `reason` a typed reason. Besides the answers listed, any route answers 404 for an unknown path and 500 `{"error": "internal error"}` for an unexpected failure, which is logged.',
      'Every route but /health, /ready, /metrics and /openapi.json needs an engine token of the desk in `X-Veloz-Engine-Token` (or `Authorization: Bearer`) whose scope opens it: trading (the gateway), admin (the operator; also opens trading routes) or backup (the backup job; only /api/wal/backup). It answers 401 without a valid token and 403 with a token of another scope; an engine without tokens configured serves those routes to loopback clients only (docs/adr/0014-engine-credentials.md).',
      'Clients usually reach it through the gateway (docs/openapi/gateway.json), which adds API-key authentication.',
    ].join('\n\n'),
  });
}
