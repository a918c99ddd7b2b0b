// The gateway's OpenAPI document: the routes it serves (docs/openapi/gateway.json), and the API
// key that all but the open ones need.
import { HTTP_API_VERSION, type RouteId } from '@veloz/api/http/contract';
import { openApiDocument, type OpenApiDocument } from '@veloz/api/http/openapi';
import { OPEN } from './exposure.ts';
import { GATEWAY_ROUTES } from './routes.ts';

export function gatewayDocument(): OpenApiDocument {
  return openApiDocument(GATEWAY_ROUTES, {
    title: 'VeloZ gateway API',
    version: HTTP_API_VERSION,
    description: [
      'The authenticated HTTP front of one VeloZ engine (`veloz gateway`): the engine’s API (docs/openapi/engine.json) behind an API key and a per-key rate limit, with the engine’s answers passed on as the engine gave them. Prices and quantities are decimal strings, as on Binance.',
      'Every error answer is `{"error": …}`, with `field` naming a bad request field or `reason` a typed reason. Besides the answers listed, any route answers 401 without a valid key (except the open ones), 404 for an unknown path and 500 `{"error": "internal error"}` for an unexpected failure, which is logged.',
    ].join('\n\n'),
    security: {
      schemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            '`Authorization: Bearer KEY`, a key of VELOZ_API_KEY (the deployment’s X-gateway-api-key Secret).',
        },
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'X-API-Key',
          description: '`X-API-Key: KEY`, the same keys.',
        },
      },
      open: (id) => OPEN.has(id as RouteId),
    },
  });
}
