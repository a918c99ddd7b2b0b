// The gateway's HTTP service: the engine's routes with the engine's schemas (engine/src/http/
// schemas.ts), authenticated and rate-limited per API key, forwarded to one engine; answers and
// errors come back as the engine gave them. buildGatewayApp() never listens.
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { FastifyError, FastifyBaseLogger } from 'fastify';
import { errorHandler } from '../http/errors.ts';
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
} from '../http/schemas.ts';
import { KeyRateLimiter, presentedKey, type ApiKeys } from './auth.ts';
import type { EventHub } from './hub.ts';
import type { GatewayMetrics } from './metrics.ts';
import { UpstreamError, type Upstream } from './upstream.ts';

export interface GatewayOptions {
  upstream: Upstream;
  hub: EventHub;
  keys: ApiKeys;
  ratePerSecond: number;
  metrics: GatewayMetrics;
  logger: FastifyBaseLogger;
  heartbeatMs: number;
  maxBufferedBytes: number;
  now?: () => number;
}

const OPEN = new Set(['/health', '/ready', '/metrics']);

const errors = {
  400: errorSchema,
  401: errorSchema,
  404: errorSchema,
  409: errorSchema,
  422: errorSchema,
  429: errorSchema,
  503: errorSchema,
};

const readySchema = {
  type: 'object',
  properties: { ready: { type: 'boolean' }, reasons: { type: 'array', items: { type: 'string' } } },
} as const;

const haltBody = {
  type: 'object',
  additionalProperties: false,
  properties: { reason: { type: 'string', maxLength: 200 } },
} as const;
const haltResponse = {
  type: 'object',
  properties: { halted: { type: 'boolean' }, reason: { type: 'string' } },
};

/** Proxied routes: method, path, and the schema the engine serves them with. */
const ROUTES: Array<{
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  schema: Record<string, unknown>;
}> = [
  {
    method: 'POST',
    url: '/api/orders',
    schema: { body: placeOrderBody, response: { 200: orderSchema, 201: orderSchema, ...errors } },
  },
  {
    method: 'GET',
    url: '/api/orders/:id',
    schema: { params: orderIdParams, response: { 200: orderSchema, ...errors } },
  },
  {
    method: 'DELETE',
    url: '/api/orders/:id',
    schema: { params: orderIdParams, response: { 200: orderSchema, ...errors } },
  },
  {
    method: 'GET',
    url: '/api/orders_state',
    schema: {
      querystring: { type: 'object', properties: { status: { type: 'string', enum: ['open', 'all'] } } },
      response: { 200: ordersStateResponse, ...errors },
    },
  },
  {
    method: 'GET',
    url: '/api/positions',
    schema: {
      response: {
        200: { type: 'object', properties: { positions: { type: 'array', items: positionSchema } } },
        ...errors,
      },
    },
  },
  {
    method: 'GET',
    url: '/api/strategies',
    schema: {
      response: {
        200: { type: 'object', properties: { strategies: { type: 'array', items: strategySchema } } },
        ...errors,
      },
    },
  },
  {
    method: 'GET',
    url: '/api/strategies/:name',
    schema: { params: strategyNameParams, response: { 200: strategySchema, ...errors } },
  },
  {
    method: 'PUT',
    url: '/api/strategies/:name',
    schema: {
      params: strategyNameParams,
      body: strategyBody,
      response: { 200: strategySchema, 201: strategySchema, ...errors },
    },
  },
  {
    method: 'DELETE',
    url: '/api/strategies/:name',
    schema: { params: strategyNameParams, response: { 200: strategySchema, ...errors } },
  },
  {
    method: 'POST',
    url: '/api/trading/halt',
    schema: { body: haltBody, response: { 200: haltResponse, ...errors } },
  },
  { method: 'POST', url: '/api/trading/resume', schema: { response: { 200: haltResponse, ...errors } } },
  {
    method: 'GET',
    url: '/api/wal/status',
    schema: { response: { 200: { type: 'object', additionalProperties: true }, ...errors } },
  },
  {
    method: 'POST',
    url: '/api/wal/checkpoint',
    schema: {
      response: { 200: { type: 'object', properties: { sequence: { type: 'integer' } } }, ...errors },
    },
  },
];

export function buildGatewayApp(o: GatewayOptions): FastifyInstance {
  const m = o.metrics;
  const limiter = new KeyRateLimiter(o.ratePerSecond, o.now);
  const app = Fastify({
    loggerInstance: o.logger,
    // Request logs could carry credentials and would dominate the hot path; metrics cover it.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });

  // Bodies are parsed for validation, and the text as received is what goes to the engine.
  const rawBodies = new WeakMap<object, string>();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    // The same answers as fastify's own parser in the engine.
    const fail = (msg: string) => done(Object.assign(new Error(msg), { statusCode: 400 }), undefined);
    if (text === '') return fail("Body cannot be empty when content-type is set to 'application/json'");
    try {
      const parsed: unknown = JSON.parse(text);
      rawBodies.set(req, text);
      done(null, parsed);
    } catch {
      fail("Body is not valid JSON but content-type is set to 'application/json'");
    }
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof UpstreamError) {
      m.upstreamErrors.inc({ kind: err.kind });
      void reply
        .code(503)
        .header('Retry-After', '1')
        .send({ error: `engine unavailable: ${err.message}`, reason: 'ENGINE_UNAVAILABLE' });
      return;
    }
    errorHandler(err, req, reply);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0]!;
    if (OPEN.has(path)) return;
    const keyId = o.keys.match(presentedKey(req.headers));
    if (!keyId) {
      m.authFailures.inc();
      return reply
        .code(401)
        .header('WWW-Authenticate', 'Bearer')
        .send({ error: 'missing or invalid API key (Authorization: Bearer KEY or X-API-Key: KEY)' });
    }
    const wait = limiter.take(keyId);
    if (wait > 0) {
      m.rateLimited.inc({ key: keyId });
      return reply
        .code(429)
        .header('Retry-After', String(Math.max(1, Math.ceil(wait / 1000))))
        .send({
          error: `gateway rate limit of ${o.ratePerSecond} requests per second exceeded`,
          reason: 'GATEWAY_RATE_LIMIT',
        });
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    m.httpDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.addHook('preClose', async () => o.hub.closeAll());

  const forward = async (req: FastifyRequest, reply: FastifyReply) => {
    const body =
      req.body === undefined || req.body === null
        ? undefined
        : (rawBodies.get(req) ?? JSON.stringify(req.body));
    const res = await o.upstream.request(req.method, req.url, body);
    void reply.code(res.status);
    if (res.retryAfter) void reply.header('Retry-After', res.retryAfter);
    // The engine's bytes go out as they came: nothing is reinterpreted on the way.
    return reply.type(res.contentType ?? 'application/json; charset=utf-8').send(res.body);
  };
  for (const r of ROUTES) app.route({ method: r.method, url: r.url, schema: r.schema, handler: forward });

  app.get(
    '/api/stream',
    { schema: { querystring: { type: 'object', properties: { lastEventId: { type: 'string' } } } } },
    (req, reply) => {
      const header = req.headers['last-event-id'];
      const last =
        (Array.isArray(header) ? header[0] : header) ?? (req.query as { lastEventId?: string }).lastEventId;
      reply.hijack();
      o.hub.serve(req.raw, reply.raw, last, {
        heartbeatMs: o.heartbeatMs,
        maxBufferedBytes: o.maxBufferedBytes,
        onSlow: () => {
          m.sseSlowDisconnects.inc();
          req.log.warn('event stream client too slow; disconnecting');
        },
      });
    },
  );

  app.get(
    '/health',
    { schema: { response: { 200: { type: 'object', additionalProperties: true } } } },
    async () => ({
      status: 'ok',
      role: 'gateway',
      engine: o.upstream.description,
      streaming: o.upstream.streaming,
    }),
  );

  app.get('/ready', { schema: { response: { 200: readySchema, 503: readySchema } } }, async (_req, reply) => {
    const reasons: string[] = [];
    try {
      const res = await o.upstream.request('GET', '/ready', undefined, 2000);
      if (res.status !== 200) {
        const body = JSON.parse(res.body) as { reasons?: string[] };
        reasons.push(...(body.reasons ?? []).map((r) => `engine: ${r}`));
        if (reasons.length === 0) reasons.push(`engine answered ${res.status}`);
      }
    } catch (err) {
      if (!(err instanceof UpstreamError || err instanceof SyntaxError)) throw err;
      reasons.push(
        err instanceof UpstreamError ? `engine unavailable: ${err.message}` : 'engine readiness unreadable',
      );
    }
    if (!o.upstream.streaming) reasons.push('engine event stream not connected');
    m.engineUp.set(reasons.length === 0 ? 1 : 0);
    return reply.code(reasons.length === 0 ? 200 : 503).send({ ready: reasons.length === 0, reasons });
  });

  app.get('/metrics', { schema: { response: { 200: { type: 'string' } } } }, async (_req, reply) => {
    m.sseClients.set(o.hub.size);
    return reply.type(m.registry.contentType).send(await m.registry.metrics());
  });

  return app;
}
