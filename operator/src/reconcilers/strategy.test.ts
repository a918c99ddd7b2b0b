import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { RESOURCES } from '../kube/resources.ts';
import type { EventRecorder } from './events.ts';
import { StrategyReconciler } from './strategy.ts';
import { FakeApi } from '@veloz/testing/operator-fake-api';

let api: FakeApi;
let events: string[];

const recorder: EventRecorder = {
  record: async (_o, type, reason) => void events.push(`${type} ${reason}`),
  normal: async (_o, reason) => void events.push(`Normal ${reason}`),
};

beforeEach(() => {
  api = new FakeApi();
  events = [];
});

describe('StrategyReconciler', () => {
  it('announces a transition once, also while the cache lags the status writes', async () => {
    // While `lagging`, status writes reach the API (`held`) but not the cache, until caught up.
    let lagging = false;
    const held: unknown[] = [];
    const reconciler = new StrategyReconciler({
      cache: api.cache,
      writer: {
        mergePatch: api.mergePatch,
        applyStatus: async (r, ns, name, status) =>
          lagging ? (held.push(status), {} as never) : api.applyStatus(r, ns, name, status),
      },
      engines: {
        call: () => Promise.reject(new Error('no engine is called while the desk is missing')),
      },
      events: recorder,
      log: pino({ level: 'silent' }),
      now: () => new Date('2026-12-06T03:00:00Z'),
    });
    api.put(RESOURCES.velozStrategy, {
      apiVersion: 'veloz.io/v1alpha1',
      kind: 'VelozStrategy',
      metadata: { name: 'grid', namespace: 'ns', uid: 'strategy-uid' },
      spec: { deploymentRef: { name: 'desk' }, symbol: 'BTCUSDT', type: 'grid', enabled: true },
    });
    await reconciler.reconcile('ns/grid');
    expect(events).toEqual(['Warning DeploymentNotFound']);

    // The desk appears, and the strategy is accepted; the cache still shows DeploymentNotFound.
    lagging = true;
    api.put(RESOURCES.velozDeployment, {
      apiVersion: 'veloz.io/v1alpha1',
      kind: 'VelozDeployment',
      metadata: {
        name: 'desk',
        namespace: 'ns',
        uid: 'desk-uid',
        finalizers: ['veloz.io/deployment-cleanup'],
      },
      spec: { pairs: 0, market: { symbols: ['BTCUSDT'] } },
    });
    await reconciler.reconcile('ns/grid');
    await reconciler.reconcile('ns/grid');
    expect(events.filter((e) => e.includes('Accepted'))).toHaveLength(1);
    for (const s of held.splice(0)) await api.applyStatus(RESOURCES.velozStrategy, 'ns', 'grid', s);
    lagging = false;
    const writes = api.writes.length;
    await reconciler.reconcile('ns/grid');
    expect(events.filter((e) => e.includes('Accepted'))).toHaveLength(1);
    expect(api.writes.length).toBe(writes);
  });
});
