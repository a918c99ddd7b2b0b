// What the two controllers declare, run by the manager against an in-memory API server: which
// change wakes which object.
import { FakeApi } from '@veloz/testing/operator-fake-api';
import { RecordingReconciler, until } from '@veloz/testing/operator-recorder';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InformerCache } from '../cache.ts';
import { RESOURCES } from '../kube/resources.ts';
import { WATCHED } from '../manager.ts';
import { ControllerManager } from '../runtime/controller-manager.ts';
import { createOperatorMetrics } from '../runtime/metrics.ts';
import { DEPLOYMENT_WATCHES, referencedSecrets } from './deployment-watches.ts';
import { STRATEGY_WATCHES } from './strategy-watches.ts';

const ours = (instance: string, component?: string) => ({
  'app.kubernetes.io/managed-by': 'veloz-operator',
  'app.kubernetes.io/instance': instance,
  ...(component ? { 'app.kubernetes.io/component': component } : {}),
});

let api: FakeApi;
let manager: ControllerManager;
let deployments: RecordingReconciler;
let strategies: RecordingReconciler;

function deployment(name: string, credentials?: string): void {
  api.put(RESOURCES.velozDeployment, {
    metadata: { name, namespace: 'ns' },
    spec: {
      pairs: 1,
      execution: credentials
        ? { mode: 'binance_spot', credentialsSecretRef: { name: credentials } }
        : { mode: 'sim_engine' },
    },
    // Acted on already: only what the test changes is queued.
    status: { observedGeneration: 1 },
  });
}

/** Runs `change`, then returns what each controller was woken for. */
async function woken(change: () => void): Promise<{ d: string[]; s: string[] }> {
  deployments.keys = [];
  strategies.keys = [];
  change();
  // The change is routed when its watch event arrives; a marker sent after it arrives later.
  api.put(RESOURCES.velozStrategy, {
    metadata: { name: 'marker', namespace: 'other' },
    spec: { deploymentRef: { name: 'x' } },
  });
  await until('the marker', () => strategies.keys.includes('other/marker'));
  return { d: deployments.keys.sort(), s: strategies.keys.filter((k) => k !== 'other/marker').sort() };
}

beforeEach(async () => {
  api = new FakeApi();
  deployment('d1', 'creds');
  deployment('d2', 'creds');
  deployment('d3');
  for (const [name, dep] of [
    ['s1', 'd1'],
    ['s2', 'd1'],
    ['s3', 'd2'],
  ] as const)
    api.put(RESOURCES.velozStrategy, {
      metadata: { name, namespace: 'ns' },
      spec: { deploymentRef: { name: dep } },
    });
  const cache = new InformerCache();
  deployments = new RecordingReconciler('VelozDeployment');
  strategies = new RecordingReconciler('VelozStrategy');
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
      { reconciler: deployments, watches: DEPLOYMENT_WATCHES },
      { reconciler: strategies, watches: STRATEGY_WATCHES },
    ],
  );
  manager.startInformers();
  await until('the caches to sync', () => cache.synced);
  manager.startControllers();
  await until('the first passes', () => deployments.keys.length === 3 && strategies.keys.length === 3);
});

afterEach(async () => {
  await manager.stopControllers();
  await manager.closeInformers();
});

describe('the controllers’ watches', () => {
  it('cover the kinds render() makes and what they make, both CRs, and Secrets', () => {
    expect(WATCHED.map((r) => r.plural).sort()).toEqual([
      'certificates',
      'configmaps',
      'cronjobs',
      'jobs',
      'networkpolicies',
      'nodes',
      'persistentvolumeclaims',
      'poddisruptionbudgets',
      'pods',
      'prometheusrules',
      'rolebindings',
      'roles',
      'secrets',
      'serviceaccounts',
      'servicemonitors',
      'services',
      'statefulsets',
      'velozdeployments',
      'velozstrategies',
    ]);
  });

  it('wake every deployment referring to a changed Secret, following the references as specs change', async () => {
    const creds = () => api.put(RESOURCES.secret, { metadata: { name: 'creds', namespace: 'ns' }, data: {} });
    expect(await woken(creds)).toEqual({ d: ['ns/d1', 'ns/d2'], s: [] });
    await woken(() => deployment('d2', 'other-creds'));
    expect((await woken(creds)).d).toEqual(['ns/d1']);
    await woken(() => api.remove(RESOURCES.velozDeployment, 'ns', 'd1'));
    expect((await woken(creds)).d).toEqual([]);
  });

  it('wake the owner of a Secret the operator made', async () => {
    const key = () =>
      api.put(RESOURCES.secret, {
        metadata: { name: 'd3-gateway-api-key', namespace: 'ns', labels: ours('d3') },
      });
    expect(await woken(key)).toEqual({ d: ['ns/d3'], s: [] });
  });

  it('wake a changed deployment and its strategies', async () => {
    expect(await woken(() => deployment('d1', 'creds2'))).toEqual({ d: ['ns/d1'], s: ['ns/s1', 'ns/s2'] });
  });

  it('wake the deployment of a changed pod, and its strategies when it is an engine', async () => {
    const pod = (name: string, component: string) => () =>
      api.put(RESOURCES.pod, { metadata: { name, namespace: 'ns', labels: ours('d1', component) } });
    expect(await woken(pod('d1-engine-0', 'engine'))).toEqual({ d: ['ns/d1'], s: ['ns/s1', 'ns/s2'] });
    expect(await woken(pod('d1-gateway-0', 'gateway'))).toEqual({ d: ['ns/d1'], s: [] });
  });
});

describe('the Node watch', () => {
  it('wakes the desks with a pod on a node whose readiness changed or that went, not on a heartbeat', async () => {
    await woken(() => {
      api.put(RESOURCES.pod, {
        metadata: { name: 'd1-engine-0', namespace: 'ns', labels: ours('d1', 'engine') },
        spec: { nodeName: 'w1' },
      });
      api.put(RESOURCES.pod, {
        metadata: { name: 'd2-engine-0', namespace: 'ns', labels: ours('d2', 'engine') },
        spec: { nodeName: 'w2' },
      });
    });
    const node = (ready: string, heartbeat: string) => () =>
      api.put(RESOURCES.node, {
        metadata: { name: 'w1' },
        status: {
          conditions: [{ type: 'Ready', status: ready, lastHeartbeatTime: heartbeat }],
          images: [{ names: [heartbeat] }],
        },
      });
    expect((await woken(node('True', 't1'))).d).toEqual(['ns/d1']);
    expect((await woken(node('True', 't2'))).d).toEqual([]);
    expect((await woken(node('Unknown', 't3'))).d).toEqual(['ns/d1']);
    expect((await woken(node('True', 't4'))).d).toEqual(['ns/d1']);
    expect((await woken(() => api.remove(RESOURCES.node, '', 'w1'))).d).toEqual(['ns/d1']);
  });
});

describe('referencedSecrets', () => {
  it('names the credentials, API key and PostgreSQL Secrets a spec refers to, and tolerates a partial spec', () => {
    expect(
      referencedSecrets({
        execution: { mode: 'binance_spot', credentialsSecretRef: { name: 'c' } },
        gateway: { apiKeySecretRef: { name: 'k' } },
        wal: { postgres: { secretRef: { name: 'p' } } },
      } as never),
    ).toEqual(['c', 'k', 'p']);
    expect(referencedSecrets({} as never)).toEqual([]);
    expect(referencedSecrets(undefined)).toEqual([]);
  });
});
