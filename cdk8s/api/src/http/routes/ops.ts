// What every VeloZ process serves for probes, scrapers and clients: health, readiness, metrics
// and this API's description.
import { route } from '../route.ts';
import { healthResponse, openApiResponse, readinessResponse, textBody } from '../schemas.ts';

export const OPS_ROUTES = {
  health: route({
    method: 'GET',
    url: '/health',
    summary: 'Liveness: 200 while the process runs',
    tag: 'ops',
    scope: 'open',
    responses: { 200: { description: 'Alive, with how the engine is configured.', schema: healthResponse } },
  }),
  ready: route({
    method: 'GET',
    url: '/ready',
    summary: 'Readiness: 200 when it can take orders, 503 with the reasons otherwise',
    tag: 'ops',
    scope: 'open',
    responses: {
      200: { description: 'Ready.', schema: readinessResponse },
      503: { description: 'Not ready; `reasons` says why.', schema: readinessResponse },
    },
  }),
  metrics: route({
    method: 'GET',
    url: '/metrics',
    summary: 'Prometheus metrics',
    tag: 'ops',
    scope: 'open',
    responses: {
      200: {
        description: 'The Prometheus text exposition format (docs/monitoring.md).',
        schema: textBody,
        mediaType: 'text/plain; version=0.0.4; charset=utf-8',
      },
    },
  }),
  openapi: route({
    method: 'GET',
    url: '/openapi.json',
    summary: 'This API as an OpenAPI 3.1 document',
    tag: 'ops',
    scope: 'open',
    responses: { 200: { description: 'The OpenAPI document.', schema: openApiResponse } },
  }),
} as const;
