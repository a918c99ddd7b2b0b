// In-process engine for tests: its own WAL directory, a silent logger, and the simulated
// market clock stopped (tests step it with engine.stepMarket).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { loadConfig } from '@veloz/api/variables';
import { Engine } from '@veloz/engine/engine/engine';
import { buildApp } from '@veloz/engine/http/app';
import { createEngineMetrics } from '@veloz/engine/metrics/engine-metrics';
import { StrategyManager } from '@veloz/engine/strategies/manager';

export interface Fixture {
  dir: string;
  engine: Engine;
  strategies: StrategyManager;
  app: FastifyInstance;
  restart(env?: Record<string, string>): Promise<Fixture>;
  close(): Promise<void>;
}

export async function startFixture(
  env: Record<string, string> = {},
  dir?: string,
  /** The engine's clock (a FakeClock's now, say); real time when absent. */
  now?: () => number,
): Promise<Fixture> {
  const walDir = dir ?? (await mkdtemp(join(tmpdir(), 'veloz-engine-')));
  const config = loadConfig({
    VELOZ_WAL_DIR: walDir,
    VELOZ_SIM_TICK_MS: '0',
    VELOZ_ORDER_RATE_LIMIT: '100000',
    ...env,
  });
  const logger = pino({ level: 'silent' });
  const engine = await Engine.start({
    config,
    logger,
    metrics: createEngineMetrics(),
    ...(now ? { now } : {}),
  });
  const strategies = new StrategyManager(engine);
  await strategies.load();
  const app = buildApp({ engine, strategies, logger });
  await app.ready();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
    strategies.close();
    await engine.close();
  };
  return {
    dir: walDir,
    engine,
    strategies,
    app,
    restart: async (more = {}) => {
      await close();
      return startFixture({ ...env, ...more }, walDir, now);
    },
    close: async () => {
      await close();
      if (!dir) await rm(walDir, { recursive: true, force: true });
    },
  };
}
