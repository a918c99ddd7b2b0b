// The gateway's HTTP service: the engine's routes with the engine's schemas (engine/core/src/http/
// schemas.ts), authenticated and rate-limited per API key, forwarded to one engine; answers and
// errors come back as the engine gave them. buildGatewayApp() never listens.
import { isUtf8 } from 'node:buffer';
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { FastifyError, FastifyBaseLogger } from 'fastify';
import { baseErrorHandler } from '@veloz/common/http-errors';
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

/** Routes served without an API key. */
const open = { open: true };

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without an API key. */
    open?: boolean;
  }
}

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
    // Nothing on the forwarding path logs, so requests share the app's logger instead of each
    // getting a pino child (a measurable cost per forwarded order).
    childLoggerFactory: (logger) => logger,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });

  // Bodies are parsed for validation, and the bytes as received are what go to the engine.
  // The engine validates the same schemas, so the gateway could skip this and still give the
  // same answers; it does not: parsing and checking an order take about a microsecond each,
  // little next to the rest of forwarding it (bench:gateway prints the gateway's CPU per order),
  // and a bad request then never uses the engine.
  const rawBodies = new WeakMap<object, Buffer>();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const bytes = body as Buffer;
    // The same answers as fastify's own parser in the engine.
    const fail = (msg: string) => done(Object.assign(new Error(msg), { statusCode: 400 }), undefined);
    if (bytes.length === 0)
      return fail("Body cannot be empty when content-type is set to 'application/json'");
    try {
      const parsed: unknown = JSON.parse(bytes.toString('utf8'));
      rawBodies.set(req, bytes);
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
    baseErrorHandler(err, req, reply);
  });
  // Authentication and the rate limit, before anything else is read.
  const authenticate = (req: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const keyId = o.keys.match(presentedKey(req.headers));
    if (!keyId) {
      m.authFailures.inc();
      void reply
        .code(401)
        .header('WWW-Authenticate', 'Bearer')
        .send({ error: 'missing or invalid API key (Authorization: Bearer KEY or X-API-Key: KEY)' });
      return;
    }
    const wait = limiter.take(keyId);
    if (wait > 0) {
      m.rateLimited.inc({ key: keyId });
      void reply
        .code(429)
        .header('Retry-After', String(Math.max(1, Math.ceil(wait / 1000))))
        .send({
          error: `gateway rate limit of ${o.ratePerSecond} requests per second exceeded`,
          reason: 'GATEWAY_RATE_LIMIT',
        });
      return;
    }
    done();
  };
  /** Records a request's latency in the series of its route, method and status. */
  const timer =
    (route: string) =>
    (req: FastifyRequest, reply: FastifyReply, done: () => void): void => {
      m.httpDuration.observe(
        { method: req.method, route, status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
      done();
    };
  const unmatched = timer('unmatched');
  // Every route gets the key check (unless open) and the latency histogram as route hooks,
  // callback style: no promise and no lookup of the route's options per request. (fastify copies
  // a GET's options for its HEAD route before these hooks run, and runs them for the HEAD route
  // too: each route gets them once.)
  app.addHook('onRoute', (r) => {
    const list = <T>(h: T | T[] | undefined): T[] => (h === undefined ? [] : Array.isArray(h) ? h : [h]);
    if (r.config?.open !== true) r.onRequest = [authenticate, ...list(r.onRequest)];
    r.onResponse = [timer(r.url), ...list(r.onResponse)];
  });
  // Unknown routes answer 401 without a valid key, like the known ones, and 404 with one.
  app.setNotFoundHandler((req, reply) => {
    authenticate(req, reply, () => {
      void reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}` });
    });
    unmatched(req, reply, () => undefined);
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
    // The engine's bytes go out as they came: nothing is reinterpreted on the way. Valid UTF-8
    // (every JSON answer) goes as a string, the same bytes: node then writes the head and the
    // body with one write instead of two.
    return reply
      .type(res.contentType ?? 'application/json; charset=utf-8')
      .send(isUtf8(res.body) ? res.body.toString('utf8') : res.body);
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
    { config: open, schema: { response: { 200: { type: 'object', additionalProperties: true } } } },
    async () => ({
      status: 'ok',
      role: 'gateway',
      engine: o.upstream.description,
      streaming: o.upstream.streaming,
    }),
  );

  app.get(
    '/ready',
    { config: open, schema: { response: { 200: readySchema, 503: readySchema } } },
    async (_req, reply) => {
      const reasons: string[] = [];
      try {
        const res = await o.upstream.request('GET', '/ready', undefined, 2000);
        if (res.status !== 200) {
          const body = JSON.parse(res.body.toString('utf8')) as { reasons?: string[] };
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
    },
  );

  app.get(
    '/metrics',
    { config: open, schema: { response: { 200: { type: 'string' } } } },
    async (_req, reply) => {
      m.sseClients.set(o.hub.size);
      return reply.type(m.registry.contentType).send(await m.registry.metrics());
    },
  );

  return app;
}
