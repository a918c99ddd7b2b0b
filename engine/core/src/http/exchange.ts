// The exchange plugin: what the last reconciliation with the exchange found.
import type { FastifyPluginAsync } from 'fastify';
import { ROUTES } from '@veloz/api/http/contract';
import type { Engine } from '../engine/engine.ts';
import { serve } from './serve.ts';

export const exchangePlugin: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  serve(app, ROUTES.reconciliation, async () => engine.reconciliation());
};
