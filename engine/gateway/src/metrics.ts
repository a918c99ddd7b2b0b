// The gateway's Prometheus metrics, one registry per app instance.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '@veloz/common/process-metrics';

export function createGatewayMetrics(registry = new Registry()) {
  collectProcessMetrics(registry, 'veloz_');
  const r = [registry];
  return {
    registry,
    // Same name as the engine's, so the error-rate alert reads gateways and engines alike.
    httpDuration: new Histogram({
      name: 'veloz_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: r,
    }),
    upstreamErrors: new Counter({
      name: 'veloz_gateway_upstream_errors_total',
      help: 'Requests the engine did not answer (refused, reset, timed out, exited)',
      labelNames: ['kind'],
      registers: r,
    }),
    authFailures: new Counter({
      name: 'veloz_gateway_auth_failures_total',
      help: 'Requests rejected for a missing or wrong API key',
      registers: r,
    }),
    sourceRefusals: new Counter({
      name: 'veloz_gateway_source_refusals_total',
      help: 'Requests refused because their source address is outside the allowed source ranges',
      registers: r,
    }),
    rateLimited: new Counter({
      name: 'veloz_gateway_rate_limited_total',
      help: 'Requests rejected by the per-key rate limit',
      labelNames: ['key'],
      registers: r,
    }),
    sseClients: new Gauge({
      name: 'veloz_sse_clients',
      help: 'Connected event stream clients',
      registers: r,
    }),
    sseSlowDisconnects: new Counter({
      name: 'veloz_gateway_sse_slow_disconnects_total',
      help: 'Event stream clients cut off for falling too far behind',
      registers: r,
    }),
    engineUp: new Gauge({
      name: 'veloz_gateway_engine_up',
      help: '1 while the engine answers and its event stream is connected',
      registers: r,
    }),
    engineRestarts: new Counter({
      name: 'veloz_gateway_engine_restarts_total',
      help: 'Engine restarts seen by the gateway (its event ids started over, or the stdio child was restarted)',
      registers: r,
    }),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
