// The proxy plugin: each contract route the gateway proxies, validated with the engine's schemas
// and forwarded with the bytes of its body as received; the engine's answer goes back as it came.
import { isUtf8 } from 'node:buffer';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { fastifyRoute, type RouteId } from '@veloz/api/http/contract';
import { EXPOSURE } from './exposure.ts';
import { gatewayRouteOf } from './routes.ts';
import type { Upstream } from './upstream.ts';

export const proxyPlugin: FastifyPluginAsync<{ upstream: Upstream }> = async (app, { upstream }) => {
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
    // An empty body is no body, as in the engine: a route that needs one says it is missing.
    if (bytes.length === 0) return done(null, undefined);
    try {
      const parsed: unknown = JSON.parse(bytes.toString('utf8'));
      rawBodies.set(req, bytes);
      done(null, parsed);
    } catch {
      fail("Body is not valid JSON but content-type is set to 'application/json'");
    }
  });

  const forward = async (req: FastifyRequest, reply: FastifyReply) => {
    const body =
      req.body === undefined || req.body === null
        ? undefined
        : (rawBodies.get(req) ?? JSON.stringify(req.body));
    const res = await upstream.request(req.method, req.url, body);
    void reply.code(res.status);
    if (res.retryAfter) void reply.header('Retry-After', res.retryAfter);
    // The engine's bytes go out as they came: nothing is reinterpreted on the way. Valid UTF-8
    // (every JSON answer) goes as a string, the same bytes: node then writes the head and the
    // body with one write instead of two.
    return reply
      .type(res.contentType ?? 'application/json; charset=utf-8')
      .send(isUtf8(res.body) ? res.body.toString('utf8') : res.body);
  };
  for (const [id, exposure] of Object.entries(EXPOSURE) as Array<[RouteId, string]>) {
    if (exposure !== 'proxy') continue;
    app.route({ ...fastifyRoute(gatewayRouteOf(id)), handler: forward });
  }
};
