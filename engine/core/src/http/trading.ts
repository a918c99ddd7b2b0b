// The trading plugin: halt and resume all new orders.
import type { FastifyPluginAsync } from 'fastify';
import { ROUTES } from '@veloz/api/http/contract';
import type { Engine } from '../engine/engine.ts';
import { serve } from './serve.ts';

export const tradingPlugin: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  serve(app, ROUTES.halt, async (req) => {
    await engine.halt(req.body?.reason ?? 'halted through the API');
    return { halted: true, reason: engine.risk.haltReason };
  });

  serve(app, ROUTES.resume, async (req) => {
    await engine.resume(req.body?.reason ?? 'resumed through the API');
    return { halted: false, reason: '' };
  });
};
