// A VelozStrategy with guardrails, through the reconciler, against a real engine process: the
// guardrails reach the engine, its halt becomes Halted=True (naming the guardrail and the value)
// with a Warning Event, and only spec.resumeAfter on a newer generation resumes it. The API-server
// side is an in-memory cache and writer, as in strategy.integration.test.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { names } from '@veloz/api/names';
import type { Strategy } from '@veloz/api/http/contract';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';
import { cacheOver } from '@veloz/testing/operator-fake-api';
import { httpJson, type EngineAccess } from '../engine-access.ts';
import type { KubernetesObject, ResourceRef } from '../kube/resources.ts';
import { RESOURCES } from '../kube/resources.ts';
import { STRATEGY_FINALIZER, StrategyReconciler } from './strategy.ts';

const objects = new Map<string, KubernetesObject>();
const key = (r: ResourceRef, ns: string, name: string) => `${r.plural}/${ns}/${name}`;
const put = (r: ResourceRef, o: KubernetesObject) =>
  objects.set(key(r, o.metadata?.namespace ?? '', o.metadata?.name ?? ''), o);
const cache = cacheOver({
  get: (r, ns, name) => objects.get(key(r, ns, name)),
  list: (r, ns) =>
    [...objects.entries()].filter(([k]) => k.startsWith(`${r.plural}/${ns}/`)).map(([, o]) => o),
});

const POD = names('desk').enginePod(0);
let engine: EngineProcess;
let dir: string;
const events: string[] = [];
const access: EngineAccess = {
  call: (_ns, _pod, method, path, body) => httpJson(`${engine.url}${path}`, method, body, 10_000),
};

interface Status {
  engines: Array<{ pair: number; state: string; halt?: { guardrail: string; value: string; limit: string } }>;
  conditions: Array<{ type: string; status: string; reason: string; message: string }>;
}
const current = () =>
  objects.get(key(RESOURCES.velozStrategy, 'ns', 'guarded')) as KubernetesObject & {
    status?: Status;
  };

const reconciler = new StrategyReconciler({
  cache,
  engines: access,
  events: {
    record: async (_o, type, reason, message) => void events.push(`${type} ${reason}: ${message}`),
    normal: async (_o, reason, message) => void events.push(`Normal ${reason}: ${message}`),
  },
  log: pino({ level: 'silent' }),
  now: () => new Date(),
  writer: {
    mergePatch: async () => current(),
    applyStatus: async (_r: ResourceRef, _ns: string, _name: string, status: unknown) => {
      put(RESOURCES.velozStrategy, { ...current(), status });
      return current();
    },
  } as never,
});

function strategy(generation: number, spec: Record<string, unknown> = {}): void {
  put(RESOURCES.velozStrategy, {
    apiVersion: 'veloz.io/v1alpha1',
    kind: 'VelozStrategy',
    metadata: { name: 'guarded', namespace: 'ns', generation, uid: 'u1', finalizers: [STRATEGY_FINALIZER] },
    spec: {
      deploymentRef: { name: 'desk' },
      type: 'grid',
      symbol: 'BTCUSDT',
      params: { levels: 3, spacing: '5.00', quantity: '0.01000' },
      enabled: true,
      guardrails: { maxLoss: '2.00', maxRejectRatio: { ratio: 0.9, window: '5m' } },
      ...spec,
    },
    ...(current()?.status ? { status: current().status } : {}),
  });
}

const condition = (type: string) => current().status!.conditions.find((c) => c.type === type);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'veloz-op-guardrail-'));
  // Loopback without tokens: this test is about guardrails, strategy.integration.test.ts about tokens.
  engine = await startEngineProcess({
    VELOZ_WAL_DIR: dir,
    VELOZ_SIM_TICK_MS: '5',
    VELOZ_SIM_SEED: '7',
    VELOZ_ORDER_RATE_LIMIT: '1000000',
    VELOZ_RISK_MAX_OPEN_ORDERS: '1000000',
  });
  put(RESOURCES.velozDeployment, {
    metadata: { name: 'desk', namespace: 'ns' },
    spec: { pairs: 1, market: { symbols: ['BTCUSDT'] } },
  });
  put(RESOURCES.pod, {
    metadata: { name: POD, namespace: 'ns' },
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  });
}, 60_000);

afterAll(async () => {
  await engine?.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('VelozStrategy guardrails through the reconciler', () => {
  it('pushes the guardrails, reports a halt as Halted with an Event, and resumes only by resumeAfter', async () => {
    strategy(1);
    await reconciler.reconcile('ns/guarded');
    const pushed = await httpJson<Strategy>(`${engine.url}/api/strategies/guarded`, 'GET');
    expect(pushed.body.guardrails).toEqual({
      maxLoss: '2.00',
      maxRejectRatio: { ratio: 0.9, windowSeconds: 300 },
    });
    expect(condition('Halted')).toMatchObject({ status: 'False', reason: 'NotHalted' });

    const deadline = Date.now() + 120_000;
    while (
      (await httpJson<Strategy>(`${engine.url}/api/strategies/guarded`, 'GET')).body.state !== 'halted'
    ) {
      if (Date.now() > deadline) throw new Error('the grid did not reach its maxLoss in 120 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    await reconciler.reconcile('ns/guarded');
    const halted = condition('Halted')!;
    expect(halted).toMatchObject({ status: 'True', reason: 'GuardrailCrossed' });
    expect(halted.message).toMatch(/^pair 0: maxLoss -\d+\.\d+ \(limit 2\.00\) at \d{4}-/);
    expect(condition('Running')).toMatchObject({ status: 'False', reason: 'Halted' });
    expect(current().status!.engines[0]).toMatchObject({ state: 'halted', halt: { guardrail: 'maxLoss' } });
    expect(
      events.filter((e) => e.startsWith('Warning GuardrailCrossed: Halted=True: pair 0: maxLoss')),
    ).toHaveLength(1);

    // Raising the limit is a new generation, but not a resume.
    strategy(2, { guardrails: { maxLoss: '1000000' } });
    await reconciler.reconcile('ns/guarded');
    expect(condition('Halted')).toMatchObject({ status: 'True', reason: 'GuardrailCrossed' });

    strategy(3, { guardrails: { maxLoss: '1000000' }, resumeAfter: new Date().toISOString() });
    await reconciler.reconcile('ns/guarded');
    expect(condition('Halted')).toMatchObject({ status: 'False', reason: 'NotHalted' });
    expect(current().status!.engines[0]!.state).toBe('running');
    expect(events.some((e) => e.startsWith('Normal NotHalted: Halted=False'))).toBe(true);
  });
});
