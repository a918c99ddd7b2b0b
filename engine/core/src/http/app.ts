// The engine's HTTP service: the routes of the HTTP contract (@veloz/api/http/contract), one
// plugin per concern, behind the engine's error answers and request metrics. buildApp() never
// listens: tests use app.inject(), the CLI listens.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { fastifyRoute, ROUTES } from '@veloz/api/http/contract';
import { requestValidatorCompiler } from '@veloz/api/http/validation';
import { opsPlugin } from '@veloz/common/ops-plugin';
import type { Engine } from '../engine/engine.ts';
import type { StrategyManager } from '../strategies/manager.ts';
import { authHook, type EngineAuth } from './auth.ts';
import { errorHandler } from './errors.ts';
import { exchangePlugin } from './exchange.ts';
import { engineDocument } from './openapi.ts';
import { ordersPlugin } from './orders.ts';
import { updatePositionMetrics } from './positions.ts';
import { strategiesPlugin } from './strategies.ts';
import { streamPlugin } from './stream.ts';
import { tradingPlugin } from './trading.ts';
import { walPlugin } from './wal.ts';

export interface AppOptions {
  engine: Engine;
  strategies: StrategyManager;
  logger: FastifyBaseLogger;
  sseHeartbeatMs?: number;
  sseMaxBufferedBytes?: number;
  /**
   * The credential check (ADR 14); absent: none at all, for callers that are the engine's own
   * parent (stdio) and for tests of the routes themselves.
   */
  auth?: EngineAuth;
}

export function buildApp(opts: AppOptions): FastifyInstance {
  const { engine, strategies } = opts;
  const m = engine.metrics;
  const app = Fastify({
    loggerInstance: opts.logger,
    // Per-request logs would dominate the order path; request metrics cover it.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.setValidatorCompiler(requestValidatorCompiler());
  // An empty JSON body is no body: `curl -XPOST -H 'content-type: application/json' .../halt`
  // halts, and a route that needs a body still says that it is missing.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '') done(null, undefined);
    else void json(req, body as string, done);
  });
  app.setErrorHandler(errorHandler);
  if (opts.auth) app.addHook('onRequest', authHook(opts.auth));
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    m.httpDuration.observe(
      { method: req.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  void app.register(opsPlugin, {
    routes: {
      health: fastifyRoute(ROUTES.health),
      ready: fastifyRoute(ROUTES.ready),
      metrics: fastifyRoute(ROUTES.metrics),
      openapi: fastifyRoute(ROUTES.openapi),
    },
    health: () => ({
      status: 'ok',
      preset: engine.config.preset,
      executionMode: engine.config.executionMode,
      marketSource: engine.config.marketSource,
    }),
    readiness: () => {
      const { reasons } = engine.readiness();
      engine.updateReady();
      return reasons;
    },
    registry: m.registry,
    beforeScrape: () => {
      engine.updateReady();
      updatePositionMetrics(engine);
    },
    document: engineDocument(),
  });
  void app.register(ordersPlugin, { engine });
  void app.register(strategiesPlugin, { engine, strategies });
  void app.register(tradingPlugin, { engine });
  void app.register(walPlugin, { engine });
  void app.register(exchangePlugin, { engine });
  void app.register(streamPlugin, {
    engine,
    heartbeatMs: opts.sseHeartbeatMs ?? 15_000,
    maxBufferedBytes: opts.sseMaxBufferedBytes ?? 4 * 1024 * 1024,
  });
  return app;
}
