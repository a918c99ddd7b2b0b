// The routes every VeloZ HTTP service has for its probes and scrapers: liveness, readiness (200,
// or 503 with the reasons), Prometheus metrics from the app's own registry, and optionally the
// service's OpenAPI document. Each service says what its health answer is and why it is not ready.
import type { FastifyContextConfig, FastifyPluginAsync, FastifySchema } from 'fastify';

export interface OpsRoute {
  url: string;
  schema: FastifySchema;
}

export interface OpsOptions {
  /** Where each route is and its schemas (from the HTTP contract). */
  routes: { health: OpsRoute; ready: OpsRoute; metrics: OpsRoute; openapi?: OpsRoute };
  /** The body of a health answer. */
  health(): object;
  /** Why the service is not ready; empty when it is. */
  readiness(): string[] | Promise<string[]>;
  /** The body of a readiness answer (default: `{ ready, reasons }`). */
  readyBody?(reasons: string[]): object;
  /** The app's metrics registry (prom-client's Registry). */
  registry: { readonly contentType: string; metrics(): Promise<string> };
  /** Brings gauges up to date before a scrape. */
  beforeScrape?(): void;
  /** The OpenAPI document served at `routes.openapi`. */
  document?: object;
  /** Route config for every route here (the gateway marks them open). */
  config?: FastifyContextConfig;
}

export const opsPlugin: FastifyPluginAsync<OpsOptions> = async (app, o) => {
  const config = o.config ?? {};
  app.get(o.routes.health.url, { schema: o.routes.health.schema, config }, async () => o.health());
  app.get(o.routes.ready.url, { schema: o.routes.ready.schema, config }, async (_req, reply) => {
    const reasons = await o.readiness();
    const body = o.readyBody ? o.readyBody(reasons) : { ready: reasons.length === 0, reasons };
    return reply.code(reasons.length === 0 ? 200 : 503).send(body);
  });
  app.get(o.routes.metrics.url, { schema: o.routes.metrics.schema, config }, async (_req, reply) => {
    o.beforeScrape?.();
    return reply.type(o.registry.contentType).send(await o.registry.metrics());
  });
  const { openapi } = o.routes;
  if (openapi && o.document) {
    // Serialized once: a string with a JSON content type goes out as it is.
    const text = JSON.stringify(o.document);
    app.get(openapi.url, { schema: openapi.schema, config }, async (_req, reply) =>
      reply.type('application/json; charset=utf-8').send(text),
    );
  }
};
