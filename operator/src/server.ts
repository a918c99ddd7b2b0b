// The operator's own HTTP endpoints. buildOperatorServer() never listens; the caller does.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

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
  app.get('/healthz', { schema: { response: { 200: status } } }, async () => ({ status: 'ok', reasons: [] }));
  app.get('/readyz', { schema: { response: { 200: status, 503: status } } }, async (_req, reply) => {
    const reasons = o.readiness();
    return reply
      .code(reasons.length ? 503 : 200)
      .send({ status: reasons.length ? 'not ready' : 'ok', reasons });
  });
  app.get('/metrics', { schema: { response: { 200: { type: 'string' } } } }, async (_req, reply) =>
    reply.type(o.registry.contentType).send(await o.registry.metrics()),
  );
  return app;
}
