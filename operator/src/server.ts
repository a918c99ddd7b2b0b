// The operator's own HTTP endpoints: the ops plugin every VeloZ service shares, at the paths the
// chart's probes use. buildOperatorServer() never listens; the caller does.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { opsPlugin } from '@veloz/common/ops-plugin';

export interface OperatorServerOptions {
  registry: Registry;
  logger: FastifyBaseLogger;
  /** Reasons the operator is not ready (empty when ready). */
  readiness: () => string[];
}

const status = {
  type: 'object',
  properties: { status: { type: 'string' }, reasons: { type: 'array', items: { type: 'string' } } },
} as const;

export function buildOperatorServer(o: OperatorServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: o.logger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  void app.register(opsPlugin, {
    routes: {
      health: { url: '/healthz', schema: { response: { 200: status } } },
      ready: { url: '/readyz', schema: { response: { 200: status, 503: status } } },
      metrics: { url: '/metrics', schema: { response: { 200: { type: 'string' } } } },
    },
    health: () => ({ status: 'ok', reasons: [] }),
    readiness: o.readiness,
    readyBody: (reasons) => ({ status: reasons.length ? 'not ready' : 'ok', reasons }),
    registry: o.registry,
  });
  return app;
}
