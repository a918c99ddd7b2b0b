// Deleting a desk whose engine does not answer: both reconcilers against the in-memory API server
// (finalizers honoured as the real one does), an engine access where one engine is down. The
// deletion must say why it waits, on the VelozDeployment and the VelozStrategy, and the
// documented annotation must let it go, recording what may remain open on the exchange.
import type { Condition } from '@veloz/api/generated/types';
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { FakeApi } from '@veloz/testing/operator-fake-api';
import { ABANDON_ENGINES } from '../annotations.ts';
import { ApiError } from '../kube/client.ts';
import { EngineUnreachableError, type EngineAccess } from '../engine-access.ts';
import { RESOURCES, type KubernetesObject } from '../kube/resources.ts';
import { DEPLOYMENT_FINALIZER, DeploymentReconciler } from './deployment.ts';
import type { EventRecorder } from './events.ts';
import { STRATEGY_FINALIZER, StrategyReconciler } from './strategy.ts';

interface Recorded {
  on: string;
  type: string;
  reason: string;
  message: string;
}

let api: FakeApi;
let events: Recorded[];
let logs: Array<{ level: number; msg: string; engine?: string; strategy?: string }>;
let down: Set<string>;
let calls: string[];
let deployments: DeploymentReconciler;
let strategies: StrategyReconciler;

const recorder: EventRecorder = {
  record: async (o, type, reason, message) =>
    void events.push({ on: `${o.kind}/${o.metadata?.name}`, type, reason, message }),
  normal: async (o, reason, message) =>
    void events.push({ on: `${o.kind}/${o.metadata?.name}`, type: 'Normal', reason, message }),
};

/** Engines answer DELETE /api/strategies/:name, except those `down`. */
const engines: EngineAccess = {
  call: async <T>(ns: string, pod: string, method: string, path: string) => {
    calls.push(`${method} ${pod}${path}`);
    if (down.has(pod)) throw new EngineUnreachableError(`engine ${ns}/${pod}: connect ECONNREFUSED`);
    return { status: 200, body: {} as T };
  },
};

type Obj = KubernetesObject & { status?: { conditions?: Condition[] } };
const deployment = () => api.get<Obj>(RESOURCES.velozDeployment, 'ns', 'desk');
const strategy = () => api.get<Obj>(RESOURCES.velozStrategy, 'ns', 'grid');
const condition = (o: Obj | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);

beforeEach(async () => {
  api = new FakeApi();
  events = [];
  logs = [];
  down = new Set(['desk-engine-1']);
  calls = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void logs.push(JSON.parse(l) as never) });
  const now = () => new Date('2026-11-21T10:00:00Z');
  deployments = new DeploymentReconciler({
    cache: api.cache,
    writer: api,
    events: recorder,
    monitoring: { served: async () => true },
    log,
    defaultImage: 'veloz:test',
    now,
    newApiKey: () => 'k'.repeat(64),
  });
  strategies = new StrategyReconciler({ cache: api.cache, writer: api, engines, events: recorder, log, now });
  api.put(RESOURCES.velozDeployment, {
    apiVersion: 'veloz.io/v1alpha1',
    kind: 'VelozDeployment',
    metadata: { name: 'desk', namespace: 'ns', finalizers: [DEPLOYMENT_FINALIZER] },
    spec: { pairs: 2, market: { symbols: ['BTCUSDT'] } },
  });
  for (const i of [0, 1])
    api.put(RESOURCES.pod, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `desk-engine-${i}`,
        namespace: 'ns',
        labels: { 'app.kubernetes.io/instance': 'desk' },
      },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
  // A strategy that ran on both engines; engine 1 has since stopped answering.
  api.put(RESOURCES.velozStrategy, {
    apiVersion: 'veloz.io/v1alpha1',
    kind: 'VelozStrategy',
    metadata: { name: 'grid', namespace: 'ns', finalizers: [STRATEGY_FINALIZER] },
    spec: {
      deploymentRef: { name: 'desk' },
      type: 'grid',
      symbol: 'BTCUSDT',
      params: { levels: 2, spacing: '5.00', quantity: '0.001' },
      enabled: true,
    },
    status: {
      conditions: [
        {
          type: 'Degraded',
          status: 'True',
          reason: 'EngineUnreachable',
          message: 'engine ns/desk-engine-1: connect ECONNREFUSED',
          lastTransitionTime: '2026-11-21T09:00:00Z',
        },
      ],
      engines: [
        { pair: 0, state: 'running', position: '0', ordersPlaced: 4 },
        { pair: 1, state: 'running', position: '0.003', ordersPlaced: 7 },
      ],
    },
  });
});

describe('deleting a desk whose engine does not answer', () => {
  it('says on the deployment and the strategy which strategy and engine it waits for', async () => {
    await api.delete(RESOURCES.velozDeployment, 'ns', 'desk');
    expect(await deployments.reconcile('ns/desk')).toEqual({ requeueAfterMs: 2000 });
    expect(strategy()?.metadata?.deletionTimestamp).toBeDefined();
    expect(condition(deployment(), 'Deleting')).toMatchObject({
      status: 'True',
      reason: 'StrategiesStopping',
      message: 'stopping VelozStrategy grid and cancelling their open orders first',
    });

    // The strategy is stopped where the engine answers, and waits for the other one.
    await expect(strategies.reconcile('ns/grid')).rejects.toThrow(/desk-engine-1: connect ECONNREFUSED/);
    expect(calls).toEqual([
      'DELETE desk-engine-0/api/strategies/grid',
      'DELETE desk-engine-1/api/strategies/grid',
    ]);
    expect(strategy()?.metadata?.finalizers).toEqual([STRATEGY_FINALIZER]);
    expect(condition(strategy(), 'Degraded')).toMatchObject({
      reason: 'CleanupPending',
      message: 'cannot stop the strategy yet: engine ns/desk-engine-1: connect ECONNREFUSED',
    });
    // Degraded was already True (EngineUnreachable): the Event is not left to a transition.
    expect(events).toContainEqual({
      on: 'VelozStrategy/grid',
      type: 'Warning',
      reason: 'CleanupPending',
      message: expect.stringMatching(
        /^deletion waits: cannot stop the strategy on engine ns\/desk-engine-1: .*annotate it \(or VelozDeployment desk\) veloz\.io\/abandon-engines=true$/,
      ),
    });

    await deployments.reconcile('ns/desk');
    const deleting = condition(deployment(), 'Deleting');
    expect(deleting).toMatchObject({ status: 'True', reason: 'CleanupBlocked' });
    expect(deleting?.message).toContain(
      'VelozStrategy grid: cannot stop the strategy yet: engine ns/desk-engine-1: connect ECONNREFUSED',
    );
    expect(deleting?.message).toContain(`kubectl annotate vzd desk ${ABANDON_ENGINES}=true`);
    expect(events).toContainEqual({
      on: 'VelozDeployment/desk',
      type: 'Warning',
      reason: 'CleanupBlocked',
      message: deleting?.message,
    });

    // While nothing changes, nothing is written or recorded again.
    const seen = events.length;
    api.writes = [];
    await expect(strategies.reconcile('ns/grid')).rejects.toThrow(EngineUnreachableError);
    await deployments.reconcile('ns/desk');
    expect(events.length).toBe(seen);
    expect(api.writes).toEqual([]);
    expect(deployment()).toBeDefined();
  });

  it('finishes once the engine answers again, without abandoning anything', async () => {
    await api.delete(RESOURCES.velozDeployment, 'ns', 'desk');
    await deployments.reconcile('ns/desk');
    await expect(strategies.reconcile('ns/grid')).rejects.toThrow(EngineUnreachableError);
    down.clear();
    await strategies.reconcile('ns/grid');
    expect(strategy()).toBeUndefined();
    expect(events.at(-1)).toMatchObject({
      reason: 'Stopped',
      message: 'stopped on every engine, its open orders cancelled',
    });
    await deployments.reconcile('ns/desk');
    expect(deployment()).toBeUndefined();
    expect(events.map((e) => e.reason)).not.toContain('EnginesAbandoned');
  });

  it('lets the deletion go with veloz.io/abandon-engines on the deployment, recording what may remain open', async () => {
    await api.delete(RESOURCES.velozDeployment, 'ns', 'desk');
    await deployments.reconcile('ns/desk');
    await expect(strategies.reconcile('ns/grid')).rejects.toThrow(EngineUnreachableError);
    await api.mergePatch(RESOURCES.velozDeployment, 'ns', 'desk', {
      metadata: { annotations: { [ABANDON_ENGINES]: 'true' } },
    });
    calls = [];
    await strategies.reconcile('ns/grid');
    // Every engine is still asked: the one that answers stops the strategy and cancels its orders.
    expect(calls).toEqual([
      'DELETE desk-engine-0/api/strategies/grid',
      'DELETE desk-engine-1/api/strategies/grid',
    ]);
    expect(strategy()).toBeUndefined();
    const abandoned = events.filter((e) => e.reason === 'EnginesAbandoned');
    expect(abandoned.map((e) => `${e.type} ${e.on}`)).toEqual([
      'Warning VelozStrategy/grid',
      'Warning VelozDeployment/desk',
    ]);
    expect(abandoned[0]!.message).toBe(
      `${ABANDON_ENGINES}: VelozStrategy grid deleted without stopping it on desk-engine-1 (last reported ` +
        'running, position 0.003, 7 orders placed; engine ns/desk-engine-1: connect ECONNREFUSED). It may ' +
        'still run there, and its open orders may remain open on the exchange: cancel them there',
    );
    expect(logs).toContainEqual(
      expect.objectContaining({ level: 40, strategy: 'grid', engine: 'desk-engine-1' }),
    );
    expect(events.at(-1)).toMatchObject({
      on: 'VelozStrategy/grid',
      reason: 'Stopped',
      message: 'stopped and its open orders cancelled on every engine but desk-engine-1 (abandoned)',
    });
    await deployments.reconcile('ns/desk');
    expect(deployment()).toBeUndefined();
  });

  it('lets a single strategy go with the annotation on the strategy itself', async () => {
    await api.mergePatch(RESOURCES.velozStrategy, 'ns', 'grid', {
      metadata: { annotations: { [ABANDON_ENGINES]: 'true' } },
    });
    await api.delete(RESOURCES.velozStrategy, 'ns', 'grid');
    await strategies.reconcile('ns/grid');
    expect(strategy()).toBeUndefined();
    expect(events.filter((e) => e.reason === 'EnginesAbandoned').map((e) => e.on)).toEqual([
      'VelozStrategy/grid',
      'VelozDeployment/desk',
    ]);
    expect(deployment()?.metadata?.deletionTimestamp).toBeUndefined();
  });

  it('ignores the annotation with any value but "true"', async () => {
    await api.mergePatch(RESOURCES.velozStrategy, 'ns', 'grid', {
      metadata: { annotations: { [ABANDON_ENGINES]: 'yes' } },
    });
    await api.delete(RESOURCES.velozStrategy, 'ns', 'grid');
    await expect(strategies.reconcile('ns/grid')).rejects.toThrow(EngineUnreachableError);
    expect(strategy()?.metadata?.finalizers).toEqual([STRATEGY_FINALIZER]);
  });
});

describe('the desk finalizer', () => {
  it('is added by a strategy before the strategy runs on any engine (ADR 30)', async () => {
    api.put(RESOURCES.velozDeployment, { ...deployment()!, metadata: { name: 'desk', namespace: 'ns' } });
    down = new Set();
    api.failNext = {
      match: (verb, kind) => verb === 'patch' && kind === 'VelozDeployment',
      error: new ApiError(409, 'Conflict', 'conflict', {}),
    };
    await expect(strategies.reconcile('ns/grid')).rejects.toThrow('conflict');
    expect(calls).toEqual([]);
    await strategies.reconcile('ns/grid');
    expect(deployment()?.metadata?.finalizers).toEqual([DEPLOYMENT_FINALIZER]);
    expect(calls.length).toBeGreaterThan(0);
  });

  it('is not there to add on a desk already going: the strategy does not start on its engines', async () => {
    api.put(RESOURCES.velozDeployment, {
      ...deployment()!,
      metadata: { name: 'desk', namespace: 'ns', deletionTimestamp: '2026-11-21T10:00:00Z' },
    });
    down = new Set();
    await strategies.reconcile('ns/grid');
    expect(calls).toEqual([]);
    expect(api.writes.filter((w) => w.includes('VelozDeployment'))).toEqual([]);
  });
});
