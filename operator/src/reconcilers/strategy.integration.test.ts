// The VelozStrategy reconciler against real engine processes (the operator's API-server side is
// an in-memory cache and writer here; the real API server is exercised by the e2e suite). The
// engines require their desk's tokens (ADR 14): the operator finds the admin one in the desk's
// Secret, as in a cluster.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';
import { names } from '@veloz/api/names';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheOver } from '@veloz/testing/operator-fake-api';
import { httpJson, type EngineAccess } from '../engine-access.ts';
import { adminToken } from '../engine-tokens.ts';
import type { KubernetesObject, ResourceRef } from '../kube/resources.ts';
import { STRATEGY_FINALIZER, StrategyReconciler } from './strategy.ts';

/** The objects as the test puts them (generations included); the reconciler reads them as cached. */
class MemoryStore {
  objects = new Map<string, KubernetesObject>();
  put(r: ResourceRef, o: KubernetesObject): void {
    this.objects.set(`${r.plural}/${o.metadata?.namespace}/${o.metadata?.name}`, o);
  }
  get<T extends object>(r: ResourceRef, ns: string, name: string): T | undefined {
    return this.objects.get(`${r.plural}/${ns}/${name}`) as T | undefined;
  }
  list(r: ResourceRef, ns: string): KubernetesObject[] {
    return [...this.objects.entries()].filter(([k]) => k.startsWith(`${r.plural}/${ns}/`)).map(([, o]) => o);
  }
}

const dirs: string[] = [];
const engines = new Map<string, EngineProcess>();
const cache = new MemoryStore();
const statuses: unknown[] = [];
const events: string[] = [];
const R = {
  vzs: {
    group: 'veloz.io',
    version: 'v1alpha1',
    kind: 'VelozStrategy',
    plural: 'velozstrategies',
    namespaced: true,
  },
  vzd: {
    group: 'veloz.io',
    version: 'v1alpha1',
    kind: 'VelozDeployment',
    plural: 'velozdeployments',
    namespaced: true,
  },
  pod: { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  secret: { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
};

const ADMIN = 'admin-token-of-desk';
const operatorCache = cacheOver({
  get: (r, ns, name) => cache.get(r, ns, name),
  list: (r, ns) => cache.list(r, ns),
});
const token = adminToken(operatorCache);
const access: EngineAccess = {
  call: (ns, pod, method, path, body) => {
    const e = engines.get(pod);
    if (!e) return Promise.reject(new Error(`no engine ${pod}`));
    return httpJson(`${e.url}${path}`, method, body, 10_000, undefined, token(ns, pod));
  },
};
/** The test's own reads and changes, as an operator with the admin token. */
const asAdmin = <T>(url: string, method: string, body?: unknown) =>
  httpJson<T>(url, method, body, 10_000, undefined, ADMIN);

const strategy = (generation: number, extra: Record<string, unknown> = {}): KubernetesObject => ({
  apiVersion: 'veloz.io/v1alpha1',
  kind: 'VelozStrategy',
  metadata: {
    name: 'grid-1',
    namespace: 'ns',
    generation,
    uid: 'u1',
    finalizers: [STRATEGY_FINALIZER],
    ...extra,
  },
  spec: {
    deploymentRef: { name: 'desk' },
    type: 'grid',
    symbol: 'BTCUSDT',
    params: { levels: 2, spacing: '5.00', quantity: '0.001' },
    enabled: true,
  },
});

const reconciler = new StrategyReconciler({
  cache: operatorCache,
  engines: access,
  events: {
    record: async (_o, type, reason, message) => void events.push(`${type} ${reason}: ${message}`),
    normal: async (_o, reason, message) => void events.push(`Normal ${reason}: ${message}`),
  },
  log: pino({ level: 'silent' }),
  now: () => new Date('2026-11-21T10:00:00Z'),
  writer: {
    // Finalizers of the strategies, and of their desk (desk-finalizer.ts).
    mergePatch: async (r: ResourceRef, ns: string | undefined, name: string, patch: unknown) => {
      const cur = cache.get<KubernetesObject>(r, ns ?? '', name)!;
      const p = patch as { metadata: { finalizers: string[] } };
      cache.put(r, { ...cur, metadata: { ...cur.metadata, finalizers: p.metadata.finalizers } });
      return cur;
    },
    applyStatus: async (_r: ResourceRef, ns: string, name: string, status: unknown) => {
      statuses.push(status);
      const cur = cache.get<KubernetesObject>(R.vzs, ns, name)!;
      cache.put(R.vzs, { ...cur, status });
      return cur;
    },
  } as never,
});

async function startEngine(pod: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'veloz-op-engine-'));
  dirs.push(dir);
  engines.set(
    pod,
    await startEngineProcess({
      VELOZ_WAL_DIR: dir,
      VELOZ_SIM_TICK_MS: '20',
      VELOZ_ORDER_RATE_LIMIT: '1000',
      VELOZ_ENGINE_TOKEN_ADMIN: ADMIN,
      VELOZ_ENGINE_TOKEN_TRADING: 'trading-token-of-desk',
    }),
  );
}

const status = () =>
  cache.get<{ status: Record<string, unknown> }>(R.vzs, 'ns', 'grid-1')!.status as {
    engines: Array<{ pair: number; state: string; ordersPlaced?: number }>;
    conditions: Array<{ type: string; status: string; reason: string }>;
    ordersPlaced: number;
  };

beforeAll(async () => {
  await Promise.all([startEngine('desk-engine-0'), startEngine('desk-engine-1')]);
  cache.put(R.secret, {
    metadata: { name: names('desk').engineTokenSecret, namespace: 'ns' },
    data: { admin: Buffer.from(ADMIN).toString('base64') },
  });
  cache.put(R.vzd, {
    metadata: { name: 'desk', namespace: 'ns' },
    spec: { pairs: 2, market: { symbols: ['BTCUSDT'] } },
  });
  for (const i of [0, 1]) {
    cache.put(R.pod, {
      metadata: { name: names('desk').enginePod(i), namespace: 'ns' },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
  }
}, 60_000);

afterAll(async () => {
  for (const e of engines.values()) await e.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function engineStrategy(pod: string) {
  return asAdmin<{
    version: number;
    ordersPlaced: number;
    openOrders: number;
    params: Record<string, unknown>;
  }>(`${engines.get(pod)!.url}/api/strategies/grid-1`, 'GET');
}

/** Puts the strategy at `generation` in the cache, with the last status written: grid `levels`
 * (spacing 5.00, quantity 0.001) and target `pairs` when given. */
function edit(generation: number, spec: { levels?: number; pairs?: number[] } = {}): void {
  const s = strategy(generation);
  const sp = s['spec'] as { params: Record<string, unknown>; pairs?: number[] };
  if (spec.levels !== undefined) sp.params = { levels: spec.levels, spacing: '5.00', quantity: '0.001' };
  if (spec.pairs) sp.pairs = spec.pairs;
  cache.put(R.vzs, { ...s, status: status() });
}

describe('StrategyReconciler with real engines', () => {
  it('reaches the engines only with the desk’s admin token', async () => {
    const url = `${engines.get('desk-engine-0')!.url}/api/strategies`;
    expect((await httpJson(url, 'GET')).status).toBe(401);
    expect((await httpJson(`${url}/x`, 'PUT', {}, 10_000, undefined, 'trading-token-of-desk')).status).toBe(
      403,
    );
    expect(token('ns', 'desk-engine-0')).toBe(ADMIN);
  });

  it('pushes the strategy to every engine and reports their state', async () => {
    cache.put(R.vzs, strategy(1));
    expect(await reconciler.reconcile('ns/grid-1')).toEqual({ requeueAfterMs: 15_000 });
    for (const pod of ['desk-engine-0', 'desk-engine-1'])
      expect((await engineStrategy(pod)).body.version).toBe(1);
    await new Promise((r) => setTimeout(r, 500));
    await reconciler.reconcile('ns/grid-1');
    const s = status();
    expect(s.engines.map((e) => e.state)).toEqual(['running', 'running']);
    expect(events.filter((e) => e.startsWith('Normal Synced')).sort()).toEqual([
      'Normal Synced: version 1 pushed to engine desk-engine-0',
      'Normal Synced: version 1 pushed to engine desk-engine-1',
    ]);
    expect(s.ordersPlaced).toBeGreaterThan(0);
    expect(s.conditions.find((c) => c.type === 'Running')).toMatchObject({ status: 'True' });
    const writes = statuses.length;
    await reconciler.reconcile('ns/grid-1');
    // Only PnL/orders may move; an unchanged world writes no status.
    expect(statuses.length - writes).toBeLessThanOrEqual(1);
  });

  it('updates the engines when the spec (generation) changes', async () => {
    edit(2, { levels: 3 });
    await reconciler.reconcile('ns/grid-1');
    const e = await engineStrategy('desk-engine-0');
    expect(e.body.version).toBe(2);
    expect(e.body.params['levels']).toBe(3);
  });

  it('reports a spec the engines reject as Degraded, with a Warning, and recovers when it is fixed', async () => {
    edit(3, { levels: 500 });
    events.length = 0;
    await reconciler.reconcile('ns/grid-1');
    expect(status().engines.map((e) => e.state)).toEqual(['rejected', 'rejected']);
    expect(status().conditions.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'EngineRejected',
    });
    expect(status().conditions.find((c) => c.type === 'Running')).toMatchObject({
      status: 'False',
      reason: 'Rejected',
    });
    expect(events).toContainEqual(
      expect.stringMatching(
        /^Warning EngineRejected: Degraded=True: engine desk-engine-0 rejected it: .*levels/,
      ),
    );
    // The engines keep running version 2 meanwhile.
    expect((await engineStrategy('desk-engine-0')).body.version).toBe(2);
    edit(4, { levels: 3 });
    await reconciler.reconcile('ns/grid-1');
    expect(status().conditions.find((c) => c.type === 'Degraded')).toMatchObject({ status: 'False' });
    expect(events).toContainEqual('Normal AsExpected: Degraded=False: ');
  });

  it('says so when the deployment has no engine for it', async () => {
    edit(4, { pairs: [5] });
    await reconciler.reconcile('ns/grid-1');
    expect(status().conditions.find((c) => c.type === 'Running')).toMatchObject({
      status: 'False',
      reason: 'NoEngines',
    });
    edit(4);
    await reconciler.reconcile('ns/grid-1');
    expect(status().conditions.find((c) => c.type === 'Running')).toMatchObject({ status: 'True' });
  });

  it('re-syncs an engine that restarted without its strategies', async () => {
    await engines.get('desk-engine-1')!.kill('SIGKILL');
    await startEngine('desk-engine-1');
    expect((await engineStrategy('desk-engine-1')).status).toBe(404);
    await reconciler.reconcile('ns/grid-1');
    expect((await engineStrategy('desk-engine-1')).body.version).toBe(4);
  });

  it('keeps the finalizer and says why while an engine is unreachable', async () => {
    const down = engines.get('desk-engine-1')!;
    engines.delete('desk-engine-1');
    cache.put(R.vzs, { ...strategy(4, { deletionTimestamp: '2026-11-21T10:00:00Z' }), status: status() });
    await expect(reconciler.reconcile('ns/grid-1')).rejects.toThrow(/no engine desk-engine-1/);
    expect(cache.get<KubernetesObject>(R.vzs, 'ns', 'grid-1')!.metadata!.finalizers).toContain(
      STRATEGY_FINALIZER,
    );
    expect(status().conditions.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'CleanupPending',
    });
    engines.set('desk-engine-1', down);
  });

  it('on deletion stops the strategy and cancels its open orders on every engine, then drops the finalizer', async () => {
    await reconciler.reconcile('ns/grid-1');
    for (const pod of ['desk-engine-0', 'desk-engine-1']) {
      expect((await engineStrategy(pod)).status).toBe(404);
      const open = await asAdmin<{ orders: Array<{ strategy: string }> }>(
        `${engines.get(pod)!.url}/api/orders_state?status=open`,
        'GET',
      );
      expect(open.body.orders.filter((o) => o.strategy === 'grid-1')).toEqual([]);
    }
    expect(cache.get<KubernetesObject>(R.vzs, 'ns', 'grid-1')!.metadata!.finalizers).toEqual([]);
    expect(events.at(-1)).toBe('Normal Stopped: stopped on every engine, its open orders cancelled');
  });

  it('with veloz.io/abandon-engines lets go of an engine that is down, after stopping it where it runs', async () => {
    const grid2 = (extra: Record<string, unknown> = {}): KubernetesObject => {
      const s = strategy(1, extra);
      return { ...s, metadata: { ...s.metadata, name: 'grid-2', uid: 'u2' } };
    };
    cache.put(R.vzs, grid2());
    await reconciler.reconcile('ns/grid-2');
    await new Promise((r) => setTimeout(r, 500));
    await reconciler.reconcile('ns/grid-2');
    const ran = cache.get<{ status: { engines: Array<{ pair: number; ordersPlaced?: number }> } }>(
      R.vzs,
      'ns',
      'grid-2',
    )!.status;
    const down = engines.get('desk-engine-1')!;
    engines.delete('desk-engine-1');
    events.length = 0;
    cache.put(R.vzs, {
      ...grid2({
        deletionTimestamp: '2026-11-21T10:00:00Z',
        annotations: { 'veloz.io/abandon-engines': 'true' },
      }),
      status: ran,
    });
    await reconciler.reconcile('ns/grid-2');
    engines.set('desk-engine-1', down);
    expect(cache.get<KubernetesObject>(R.vzs, 'ns', 'grid-2')!.metadata!.finalizers).toEqual([]);
    // Stopped, its orders cancelled, on the engine that answered; still there on the other one.
    const open = async (pod: string) =>
      (
        await asAdmin<{ orders: Array<{ strategy: string }> }>(
          `${engines.get(pod)!.url}/api/orders_state?status=open`,
          'GET',
        )
      ).body.orders.filter((o) => o.strategy === 'grid-2');
    const at = (pod: string) => asAdmin(`${engines.get(pod)!.url}/api/strategies/grid-2`, 'GET');
    expect((await at('desk-engine-0')).status).toBe(404);
    expect(await open('desk-engine-0')).toEqual([]);
    expect((await at('desk-engine-1')).status).toBe(200);
    const placed = ran.engines.find((e) => e.pair === 1)?.ordersPlaced ?? 0;
    expect(events).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^Warning EnginesAbandoned: veloz.io/abandon-engines: VelozStrategy grid-2 deleted without stopping ` +
            `it on desk-engine-1 \\(last reported running, position [-0-9.]+, ${placed} orders placed; ` +
            'engine desk-engine-1: no engine desk-engine-1\\)\\. It may still run there, and its open orders ' +
            'may remain open on the exchange',
        ),
      ),
    );
    expect(events.at(-1)).toBe(
      'Normal Stopped: stopped and its open orders cancelled on every engine but desk-engine-1 (abandoned)',
    );
    // What was abandoned still runs there, as the Event says: stopped by hand, as the runbook does.
    await asAdmin(`${engines.get('desk-engine-1')!.url}/api/strategies/grid-2`, 'DELETE');
  });
});
