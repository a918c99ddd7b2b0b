// The stream plugin: the engine's events, fanned out to every client from the gateway's one
// stream from its engine. Open streams are closed before the app closes.
import type { FastifyPluginAsync } from 'fastify';
import { fastifySchema } from '@veloz/api/http/contract';
import type { EventHub } from './hub.ts';
import type { GatewayMetrics } from './metrics.ts';
import { gatewayRouteOf } from './routes.ts';

export interface StreamOptions {
  hub: EventHub;
  metrics: GatewayMetrics;
  heartbeatMs: number;
  maxBufferedBytes: number;
}

export const streamPlugin: FastifyPluginAsync<StreamOptions> = async (app, o) => {
  app.addHook('preClose', async () => o.hub.closeAll());
  const r = gatewayRouteOf('stream');
  app.get(r.url, { schema: fastifySchema(r) }, (req, reply) => {
    const header = req.headers['last-event-id'];
    const last =
      (Array.isArray(header) ? header[0] : header) ?? (req.query as { lastEventId?: string }).lastEventId;
    reply.hijack();
    o.hub.serve(req.raw, reply.raw, last, {
      heartbeatMs: o.heartbeatMs,
      maxBufferedBytes: o.maxBufferedBytes,
      onSlow: () => {
        o.metrics.sseSlowDisconnects.inc();
        req.log.warn('event stream client too slow; disconnecting');
      },
    });
  });
};
