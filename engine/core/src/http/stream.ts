// The stream plugin: engine events as server-sent events. Open streams are closed before the app
// closes, so shutdown never waits on a client that keeps its connection.
import type { FastifyPluginAsync } from 'fastify';
import { ROUTES } from '@veloz/api/http/contract';
import type { Engine } from '../engine/engine.ts';
import { serve } from './serve.ts';
import { streamEvents } from './sse.ts';

export interface StreamOptions {
  engine: Engine;
  heartbeatMs: number;
  maxBufferedBytes: number;
}

export const streamPlugin: FastifyPluginAsync<StreamOptions> = async (app, o) => {
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });
  serve(app, ROUTES.stream, (req, reply) => {
    streamEvents(o.engine.events, req, reply, {
      heartbeatMs: o.heartbeatMs,
      maxBufferedBytes: o.maxBufferedBytes,
      onClientsChanged: (d) => o.engine.metrics.sseClients.inc(d),
      open,
    });
  });
};
