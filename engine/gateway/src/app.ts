// The gateway's HTTP service: the routes of the engine's HTTP contract (exposure.ts says which),
// authenticated and rate-limited per API key, forwarded to one engine; answers and errors come
// back as the engine gave them. buildGatewayApp() never listens.
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type {
  FastifyBaseLogger,
  FastifyError,
  FastifyHttp2SecureOptions,
  FastifyServerOptions,
} from 'fastify';
import type { Http2SecureServer } from 'node:http2';
import { fastifySchema } from '@veloz/api/http/contract';
import { requestValidatorCompiler } from '@veloz/api/http/validation';
import { baseErrorHandler } from '@veloz/common/http-errors';
import { opsPlugin } from '@veloz/common/ops-plugin';
import { KeyRateLimiter, presentedKey, type ApiKeys } from './auth.ts';
import type { SourceAllowlist } from './source-allowlist.ts';
import type { EventHub } from './hub.ts';
import type { GatewayMetrics } from './metrics.ts';
import { gatewayDocument } from './openapi.ts';
import { proxyPlugin } from './proxy.ts';
import { gatewayReadiness } from './readiness.ts';
import { gatewayRouteOf } from './routes.ts';
import { streamPlugin } from './stream.ts';
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
  /** Serve HTTPS with this certificate (HTTP/2 to clients that offer it, else HTTP/1.1). */
  tls?: { cert: Buffer; key: Buffer };
  /** Client addresses served; others get 403 (open routes excepted). Everyone when absent. */
  allowlist?: SourceAllowlist;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without an API key. */
    open?: boolean;
  }
}

export function buildGatewayApp(o: GatewayOptions): FastifyInstance {
  const m = o.metrics;
  const limiter = new KeyRateLimiter(o.ratePerSecond, o.now);
  const options: FastifyServerOptions = {
    loggerInstance: o.logger,
    // Request logs could carry credentials and would dominate the hot path; metrics cover it.
    logController: new LogController({ disableRequestLogging: true }),
    // Nothing on the forwarding path logs, so requests share the app's logger instead of each
    // getting a pino child (a measurable cost per forwarded order).
    childLoggerFactory: (logger) => logger,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  };
  const app = o.tls ? secureApp(options, o.tls) : Fastify(options);
  app.setValidatorCompiler(requestValidatorCompiler());

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
  // The source address first: a client outside the allowed ranges learns nothing, not even
  // whether its key is valid.
  const allowSource = (req: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const address = req.socket.remoteAddress;
    if (o.allowlist && !o.allowlist.allows(address)) {
      m.sourceRefusals.inc();
      void reply.code(403).send({
        error: `source address ${address ?? 'unknown'} is not in the gateway's allowed source ranges`,
        reason: 'SOURCE_NOT_ALLOWED',
      });
      return;
    }
    done();
  };
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
    if (r.config?.open !== true)
      r.onRequest = [...(o.allowlist ? [allowSource] : []), authenticate, ...list(r.onRequest)];
    r.onResponse = [timer(r.url), ...list(r.onResponse)];
  });
  // Unknown routes answer 401 without a valid key, like the known ones, and 404 with one.
  app.setNotFoundHandler((req, reply) => {
    allowSource(req, reply, () =>
      authenticate(req, reply, () => {
        void reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}` });
      }),
    );
    unmatched(req, reply, () => undefined);
  });

  const ops = (id: 'health' | 'ready' | 'metrics' | 'openapi') => {
    const r = gatewayRouteOf(id);
    return { url: r.url, schema: fastifySchema(r) };
  };
  void app.register(opsPlugin, {
    routes: { health: ops('health'), ready: ops('ready'), metrics: ops('metrics'), openapi: ops('openapi') },
    config: { open: true },
    health: () => ({
      status: 'ok',
      role: 'gateway',
      engine: o.upstream.description,
      streaming: o.upstream.streaming,
    }),
    readiness: () => gatewayReadiness(o.upstream, m),
    registry: m.registry,
    beforeScrape: () => m.sseClients.set(o.hub.size),
    document: gatewayDocument(),
  });
  void app.register(proxyPlugin, { upstream: o.upstream });
  void app.register(streamPlugin, {
    hub: o.hub,
    metrics: m,
    heartbeatMs: o.heartbeatMs,
    maxBufferedBytes: o.maxBufferedBytes,
  });
  return app;
}

/**
 * HTTPS, with HTTP/2 where the client offers it (ALPN) and HTTP/1.1 otherwise. fastify types an
 * HTTP/2 app apart, though its requests and replies work alike: every route here uses only what
 * node's HTTP/2 compatibility API shares with node:http, so the app is typed as the default one.
 */
function secureApp(options: FastifyServerOptions, tls: { cert: Buffer; key: Buffer }): FastifyInstance {
  const http2 = options as FastifyHttp2SecureOptions<Http2SecureServer>;
  return Fastify({
    ...http2,
    http2: true,
    https: { allowHTTP1: true, ...tls },
  }) as unknown as FastifyInstance;
}
