// The manager against an in-memory API server with list and watch: real informers, real queues.
import { FakeApi } from '@veloz/testing/operator-fake-api';
import { RecordingReconciler, until } from '@veloz/testing/operator-recorder';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { InformerCache } from '../cache.ts';
import { RESOURCES } from '../kube/resources.ts';
import { ControllerManager } from './controller-manager.ts';
import { createOperatorMetrics } from './metrics.ts';
import { MANAGED_SELECTOR, type Watches } from './watches.ts';

const labels = { 'app.kubernetes.io/managed-by': 'veloz-operator', 'app.kubernetes.io/instance': 'd1' };
const deployments: Watches = {
  for: RESOURCES.velozDeployment,
  owns: [RESOURCES.configMap, RESOURCES.serviceMonitor],
  watches: [],
  indexes: [],
};
const strategies: Watches = {
  for: RESOURCES.velozStrategy,
  owns: [],
  watches: [{ resource: RESOURCES.configMap, selector: MANAGED_SELECTOR, map: () => ['ns/s-of-config'] }],
  indexes: [],
};

let manager: ControllerManager | undefined;
afterEach(async () => {
  await manager?.stopControllers();
  await manager?.closeInformers();
});

function setup(api: FakeApi) {
  const cache = new InformerCache();
  const d = new RecordingReconciler('VelozDeployment');
  const s = new RecordingReconciler('VelozStrategy');
  manager = new ControllerManager(
    {
      client: api.client,
      cache,
      namespaces: undefined,
      workers: 2,
      log: pino({ level: 'silent' }),
      metrics: createOperatorMetrics(),
    },
    [
      { reconciler: d, watches: deployments },
      { reconciler: s, watches: strategies },
    ],
  );
  return { cache, d, s, m: manager };
}

const put = (api: FakeApi, kind: 'velozDeployment' | 'velozStrategy', name: string) =>
  api.put(RESOURCES[kind], { metadata: { name, namespace: 'ns' }, spec: {} });

describe('ControllerManager', () => {
  it('starts the informers the controllers declared, then the controllers with their objects queued', async () => {
    const api = new FakeApi();
    put(api, 'velozDeployment', 'd1');
    put(api, 'velozStrategy', 's1');
    const { cache, d, s, m } = setup(api);
    expect(m.kinds.map((k) => k.plural).sort()).toEqual([
      'configmaps',
      'servicemonitors',
      'velozdeployments',
      'velozstrategies',
    ]);
    m.startInformers(m.kinds.filter((k) => k !== RESOURCES.serviceMonitor));
    await until('the caches to sync', () => cache.synced);
    expect(() => cache.get(RESOURCES.serviceMonitor, 'ns', 'x')).toThrow(/no informer for servicemonitors/);
    m.startControllers();
    await until('both objects reconciled', () => d.keys.includes('ns/d1') && s.keys.includes('ns/s1'));
  });

  it('routes changes to the controllers that declared them while they run, and nowhere while they do not', async () => {
    const api = new FakeApi();
    const { cache, d, s, m } = setup(api);
    m.startInformers();
    await until('the caches to sync', () => cache.synced);
    api.put(RESOURCES.configMap, { metadata: { name: 'c', namespace: 'ns', labels } });
    await until('the ConfigMap cached', () => !!cache.get(RESOURCES.configMap, 'ns', 'c'));
    expect([...d.keys, ...s.keys]).toEqual([]);
    m.startControllers();
    api.put(RESOURCES.configMap, { metadata: { name: 'c', namespace: 'ns', labels }, data: { a: '1' } });
    await until(
      'the owner and the mapped key queued',
      () => d.keys.includes('ns/d1') && s.keys.includes('ns/s-of-config'),
    );
    // Not ours: no owner to wake, and outside the strategies' selector.
    api.put(RESOURCES.configMap, { metadata: { name: 'user', namespace: 'ns' } });
    m.enqueue(RESOURCES.velozDeployment, 'ns/from-outside');
    await until('the outside key queued', () => d.keys.includes('ns/from-outside'));
    expect(d.keys).toEqual(['ns/d1', 'ns/from-outside']);
    expect(s.keys).toEqual(['ns/s-of-config']);
    await m.stopControllers();
    put(api, 'velozDeployment', 'd2');
    await until('d2 cached', () => !!cache.get(RESOURCES.velozDeployment, 'ns', 'd2'));
    expect(d.keys).not.toContain('ns/d2');
  });

  it('wakes every object of the controllers watching a kind whose API came or went, and only those', async () => {
    const api = new FakeApi();
    put(api, 'velozDeployment', 'd1');
    put(api, 'velozDeployment', 'd2');
    put(api, 'velozStrategy', 's1');
    const { cache, d, s, m } = setup(api);
    m.startInformers();
    await until('the caches to sync', () => cache.synced);
    m.startControllers();
    await until('the first passes', () => d.keys.length === 2 && s.keys.length === 1);
    m.requeueWatchersOf([RESOURCES.serviceMonitor]);
    await until('the deployments woken', () => d.keys.length === 4);
    expect(d.keys.slice(2).sort()).toEqual(['ns/d1', 'ns/d2']);
    expect(s.keys).toEqual(['ns/s1']);
    await m.closeInformers([RESOURCES.serviceMonitor]);
    expect(() => cache.all(RESOURCES.serviceMonitor)).toThrow(/no informer/);
    m.startInformers([RESOURCES.serviceMonitor]);
    expect(cache.all(RESOURCES.serviceMonitor)).toEqual([]);
  });
});
