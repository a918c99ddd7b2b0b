// The engine's HTTP service. buildApp() never listens: tests use app.inject(), the CLI listens.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { registerWalBackupRoute } from './backup-route.ts';
import { formatNotional, formatPrice, formatQty } from '../domain/instrument.ts';
import type { Engine } from '../engine/engine.ts';
import type { PlaceOrderRequest } from '../engine/order-input.ts';
import type { StrategyManager } from '../strategies/manager.ts';
import type { StrategySpec } from '../strategies/types.ts';
import { errorHandler } from './errors.ts';
import {
  errorSchema,
  orderIdParams,
  orderSchema,
  ordersStateResponse,
  placeOrderBody,
  positionSchema,
  strategyBody,
  strategyNameParams,
  strategySchema,
} from '@veloz/api/http/schemas';
import { streamEvents } from './sse.ts';

export interface AppOptions {
  engine: Engine;
  strategies: StrategyManager;
  logger: FastifyBaseLogger;
  sseHeartbeatMs?: number;
  sseMaxBufferedBytes?: number;
}

const errors = {
  400: errorSchema,
  404: errorSchema,
  409: errorSchema,
  422: errorSchema,
  429: errorSchema,
  503: errorSchema,
};

export function buildApp(opts: AppOptions): FastifyInstance {
  const { engine, strategies } = opts;
  const m = engine.metrics;
  const app = Fastify({
    loggerInstance: opts.logger,
    // Per-request logs would dominate the order path; request metrics cover it.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });
  app.setErrorHandler(errorHandler);
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const close of [...streams]) close();
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    m.httpDuration.observe(
      { method: req.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.get(
    '/health',
    { schema: { response: { 200: { type: 'object', additionalProperties: true } } } },
    async () => ({
      status: 'ok',
      preset: engine.config.preset,
      executionMode: engine.config.executionMode,
      marketSource: engine.config.marketSource,
    }),
  );

  app.get(
    '/ready',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            properties: { ready: { type: 'boolean' }, reasons: { type: 'array', items: { type: 'string' } } },
          },
          503: {
            type: 'object',
            properties: { ready: { type: 'boolean' }, reasons: { type: 'array', items: { type: 'string' } } },
          },
        },
      },
    },
    async (_req, reply) => {
      const r = engine.readiness();
      engine.updateReady();
      return reply.code(r.ready ? 200 : 503).send(r);
    },
  );

  app.get('/metrics', { schema: { response: { 200: { type: 'string' } } } }, async (_req, reply) => {
    engine.updateReady();
    updatePositionMetrics(engine);
    return reply.type(m.registry.contentType).send(await m.registry.metrics());
  });

  app.post<{ Body: PlaceOrderRequest }>(
    '/api/orders',
    { schema: { body: placeOrderBody, response: { 200: orderSchema, 201: orderSchema, ...errors } } },
    async (req, reply) => {
      const { view, created } = await engine.placeOrder(req.body);
      return reply.code(created ? 201 : 200).send(view);
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/orders/:id',
    { schema: { params: orderIdParams, response: { 200: orderSchema, ...errors } } },
    async (req, reply) => {
      const view = await engine.durable(() => {
        const o = engine.state.orders.get(req.params.id);
        return o && engine.orderView(o);
      });
      if (!view) return reply.code(404).send({ error: `order ${req.params.id} not found` });
      return view;
    },
  );

  app.delete<{ Params: { id: number } }>(
    '/api/orders/:id',
    { schema: { params: orderIdParams, response: { 200: orderSchema, ...errors } } },
    async (req) => engine.cancelOrder(req.params.id),
  );

  app.get<{ Querystring: { status?: 'open' | 'all' } }>(
    '/api/orders_state',
    {
      schema: {
        querystring: { type: 'object', properties: { status: { type: 'string', enum: ['open', 'all'] } } },
        response: { 200: ordersStateResponse },
      },
    },
    async (req) =>
      engine.durable(() => {
        const ids = req.query.status === 'open' ? [...engine.state.open] : [...engine.state.orders.keys()];
        ids.sort((a, b) => a - b);
        return {
          orders: ids.map((id) => engine.orderView(engine.state.orders.get(id)!)),
          lastSequence: engine.state.lastSequence,
        };
      }),
  );

  app.get(
    '/api/positions',
    {
      schema: {
        response: {
          200: { type: 'object', properties: { positions: { type: 'array', items: positionSchema } } },
        },
      },
    },
    async () => engine.durable(() => ({ positions: positionViews(engine) })),
  );

  app.get(
    '/api/stream',
    { schema: { querystring: { type: 'object', properties: { lastEventId: { type: 'string' } } } } },
    (req, reply) => {
      streamEvents(engine.events, req, reply, {
        heartbeatMs: opts.sseHeartbeatMs ?? 15_000,
        maxBufferedBytes: opts.sseMaxBufferedBytes ?? 4 * 1024 * 1024,
        onClientsChanged: (d) => m.sseClients.inc(d),
        open: streams,
      });
    },
  );

  app.get(
    '/api/strategies',
    {
      schema: {
        response: {
          200: { type: 'object', properties: { strategies: { type: 'array', items: strategySchema } } },
        },
      },
    },
    async () => engine.durable(() => ({ strategies: strategies.list() })),
  );

  app.get<{ Params: { name: string } }>(
    '/api/strategies/:name',
    { schema: { params: strategyNameParams, response: { 200: strategySchema, ...errors } } },
    async (req) => engine.durable(() => strategies.get(req.params.name)),
  );

  app.put<{ Params: { name: string }; Body: Omit<StrategySpec, 'name'> }>(
    '/api/strategies/:name',
    {
      schema: {
        params: strategyNameParams,
        body: strategyBody,
        response: { 200: strategySchema, 201: strategySchema, ...errors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const res = await strategies.upsert({
        name: req.params.name,
        type: b.type,
        symbol: b.symbol,
        params: b.params ?? {},
        version: b.version,
        enabled: b.enabled ?? true,
        risk: b.risk ?? {},
      });
      return reply.code(res.created ? 201 : 200).send(res.view);
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/api/strategies/:name',
    { schema: { params: strategyNameParams, response: { 200: strategySchema, ...errors } } },
    async (req) => strategies.remove(req.params.name),
  );

  const haltBody = {
    type: 'object',
    additionalProperties: false,
    properties: { reason: { type: 'string', maxLength: 200 } },
  } as const;
  const haltResponse = {
    200: { type: 'object', properties: { halted: { type: 'boolean' }, reason: { type: 'string' } } },
  };
  app.post<{ Body: { reason?: string } | undefined }>(
    '/api/trading/halt',
    { schema: { body: haltBody, response: haltResponse } },
    async (req) => {
      engine.halt(req.body?.reason ?? 'halted through the API');
      return { halted: true, reason: engine.risk.haltReason };
    },
  );
  app.post('/api/trading/resume', { schema: { response: haltResponse } }, async () => {
    engine.resume();
    return { halted: false, reason: '' };
  });

  app.get(
    '/api/wal/status',
    { schema: { response: { 200: { type: 'object', additionalProperties: true } } } },
    async () => engine.walStatus(),
  );

  app.post(
    '/api/wal/checkpoint',
    {
      schema: {
        response: { 200: { type: 'object', properties: { sequence: { type: 'integer' } } }, ...errors },
      },
    },
    async () => ({ sequence: await engine.checkpoint() }),
  );

  registerWalBackupRoute(app, engine);

  return app;
}

function positionViews(engine: Engine) {
  const out = [];
  for (const [key, p] of engine.state.positions) {
    const [strategy, symbol] = key.split('\u0000') as [string, string];
    const inst = engine.instruments.get(symbol);
    if (!inst) continue;
    const mark = engine.markPrice(symbol);
    const net = p.net;
    out.push({
      symbol,
      strategy,
      quantity: formatQty(inst, net),
      avgEntryPrice:
        net === 0 ? formatPrice(inst, 0) : formatPrice(inst, Number(p.openCost() / BigInt(Math.abs(net)))),
      markPrice: formatPrice(inst, mark),
      realizedPnl: formatNotional(inst, p.realized),
      unrealizedPnl: formatNotional(inst, mark ? p.unrealized(mark) : 0n),
      boughtQuantity: formatQty(inst, p.bought),
      soldQuantity: formatQty(inst, p.sold),
    });
  }
  return out;
}

function updatePositionMetrics(engine: Engine): void {
  const m = engine.metrics;
  for (const [key, p] of engine.state.positions) {
    const [strategy, symbol] = key.split('\u0000') as [string, string];
    if (strategy) continue;
    const inst = engine.instruments.get(symbol);
    if (!inst) continue;
    const scale = 10 ** (inst.priceDecimals + inst.qtyDecimals);
    const mark = engine.markPrice(symbol);
    // Metrics are floats by nature; the exact values are in /api/positions.
    m.position.set({ symbol }, p.net / 10 ** inst.qtyDecimals);
    m.realizedPnl.set({ symbol }, Number(p.realized) / scale);
    m.unrealizedPnl.set({ symbol }, mark ? Number(p.unrealized(mark)) / scale : 0);
  }
  const counts = new Map<string, number>();
  for (const o of engine.state.orders.values()) counts.set(o.status, (counts.get(o.status) ?? 0) + 1);
  m.ordersByStatus.reset();
  for (const [status, n] of counts) m.ordersByStatus.set({ status }, n);
}
