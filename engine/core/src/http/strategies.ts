// The strategies plugin: list, read, create or update (idempotent by version) and remove.
import type { FastifyPluginAsync } from 'fastify';
import { ROUTES } from '@veloz/api/http/contract';
import type { Engine } from '../engine/engine.ts';
import type { StrategyManager } from '../strategies/manager.ts';
import { serve } from './serve.ts';

export const strategiesPlugin: FastifyPluginAsync<{ engine: Engine; strategies: StrategyManager }> = async (
  app,
  { engine, strategies },
) => {
  serve(app, ROUTES.listStrategies, async () => engine.durable(() => ({ strategies: strategies.list() })));

  serve(app, ROUTES.getStrategy, async (req) => engine.durable(() => strategies.get(req.params.name)));

  serve(app, ROUTES.putStrategy, async (req, reply) => {
    const b = req.body;
    const res = await strategies.upsert({
      name: req.params.name,
      type: b.type,
      symbol: b.symbol,
      params: b.params ?? {},
      version: b.version,
      enabled: b.enabled ?? true,
      risk: b.risk ?? {},
      ...(b.guardrails ? { guardrails: b.guardrails } : {}),
      ...(b.resumeAfter !== undefined ? { resumeAfter: b.resumeAfter } : {}),
    });
    return reply.code(res.created ? 201 : 200).send(res.view);
  });

  serve(app, ROUTES.deleteStrategy, async (req) => strategies.remove(req.params.name));
};
