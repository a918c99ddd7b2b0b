import { names } from '@veloz/api/names';
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../kube/client.ts';
import { RESOURCES, type KubernetesObject } from '../kube/resources.ts';
import { TerminalError } from '../runtime/controller.ts';
import { DEPLOYMENT_FINALIZER, DeploymentReconciler, type DeploymentReconcilerDeps } from './deployment.ts';
import type { EventRecorder } from './events.ts';
import { FakeApi } from '@veloz/testing/operator-fake-api';

let api: FakeApi;
let events: string[];
let served: boolean;
let reconciler: DeploymentReconciler;

const recorder: EventRecorder = {
  record: async (_o, type, reason) => void events.push(`${type} ${reason}`),
  normal: async (_o, reason) => void events.push(`Normal ${reason}`),
};

function create(spec: Record<string, unknown> = {}): void {
  api.put(RESOURCES.velozDeployment, {
    apiVersion: 'veloz.io/v1alpha1',
    kind: 'VelozDeployment',
    metadata: { name: 'desk', namespace: 'ns', uid: 'cr-uid' },
    spec: { pairs: 2, ...spec },
  });
}

const cr = () =>
  api.get<KubernetesObject & { spec: Record<string, unknown>; status?: Record<string, unknown> }>(
    RESOURCES.velozDeployment,
    'ns',
    'desk',
  )!;
const condition = (type: string) =>
  (cr().status?.['conditions'] as Array<{ type: string; status: string; reason: string }> | undefined)?.find(
    (c) => c.type === type,
  );

const newReconciler = (over: Partial<DeploymentReconcilerDeps> = {}) =>
  new DeploymentReconciler({
    cache: api.cache,
    writer: api,
    events: recorder,
    monitoring: { served: async () => served },
    log: pino({ level: 'silent' }),
    defaultImage: 'veloz:test',
    now: () => new Date('2026-11-21T10:00:00Z'),
    newApiKey: () => 'k'.repeat(64),
    ...over,
  });

beforeEach(() => {
  api = new FakeApi();
  events = [];
  served = true;
  reconciler = newReconciler();
});

describe('DeploymentReconciler', () => {
  it('applies every desired object, writes status, and a second pass writes nothing', async () => {
    create();
    await reconciler.reconcile('ns/desk');
    // No strategy and no account to clean up: owner references take the children (ADR 30).
    expect(api.writes.filter((w) => w.startsWith('patch'))).toEqual([]);
    expect(cr().metadata?.finalizers).toBeUndefined();
    const applied = api.writes.filter((w) => w.startsWith('apply')).sort();
    expect(applied).toEqual(
      expect.arrayContaining([
        'apply ConfigMap/desk-config',
        'apply Secret/desk-gateway-api-key',
        'apply Service/desk',
        'apply Service/desk-engine',
        'apply StatefulSet/desk-engine',
        'apply StatefulSet/desk-gateway',
        'apply PodDisruptionBudget/desk-engine',
        'apply NetworkPolicy/desk-engine',
        'apply CronJob/desk-wal-backup',
      ]),
    );
    expect(api.writes.at(-1)).toBe('status VelozDeployment/desk');
    expect(cr().status).toMatchObject({ observedGeneration: 1, phase: 'Progressing', readyPairs: 0 });
    // Pairs still starting are not news: no Warning for the first Ready=False.
    expect(events).toEqual(['Normal Created']);
    api.writes = [];
    await reconciler.reconcile('ns/desk');
    expect(api.writes).toEqual([]);
  });

  it('warns once, when its engines are created, that it restores from a desk whose last drill failed (ADR 24)', async () => {
    api.put(RESOURCES.velozDeployment, {
      apiVersion: 'veloz.io/v1alpha1',
      kind: 'VelozDeployment',
      metadata: { name: 'src', namespace: 'ns', uid: 'src-uid' },
      spec: { pairs: 2 },
      status: {
        conditions: [
          { type: 'BackupVerified', status: 'False', reason: 'DigestMismatch', message: 'pair 0' },
        ],
      },
    });
    create({ restore: { fromBackup: { source: '/backups', deployment: 'src' } } });
    await reconciler.reconcile('ns/desk');
    expect(events).toEqual(['Normal Created', 'Warning RestoreFromUnverifiedBackup']);
    events = [];
    await reconciler.reconcile('ns/desk');
    expect(events).toEqual([]);
  });

  it('restores from a verified source without a warning', async () => {
    api.put(RESOURCES.velozDeployment, {
      apiVersion: 'veloz.io/v1alpha1',
      kind: 'VelozDeployment',
      metadata: { name: 'src', namespace: 'ns', uid: 'src-uid' },
      spec: { pairs: 2 },
      status: { conditions: [{ type: 'BackupVerified', status: 'True', reason: 'Verified', message: '' }] },
    });
    create({ restore: { fromBackup: { source: '/backups', deployment: 'src' } } });
    await reconciler.reconcile('ns/desk');
    expect(events).toEqual(['Normal Created']);
  });

  it('adds its finalizer once it holds its account, and fails the pass when it cannot, after applying the children alongside it', async () => {
    reconciler = newReconciler({
      accounts: {
        claim: async () => ({ state: 'Held', account: 'a', lease: 'veloz-system/account-a' }),
        release: async () => undefined,
      },
    });
    create();
    api.failNext = {
      match: (verb, kind) => verb === 'patch' && kind === 'VelozDeployment',
      error: new ApiError(409, 'Conflict', 'conflict', {}),
    };
    await expect(reconciler.reconcile('ns/desk')).rejects.toThrow('conflict');
    expect(api.get(RESOURCES.statefulSet, 'ns', 'desk-engine')).toBeDefined();
    await reconciler.reconcile('ns/desk');
    expect(cr().metadata?.finalizers).toContain(DEPLOYMENT_FINALIZER);
  });

  it('keeps the generated API key forever', async () => {
    create();
    await reconciler.reconcile('ns/desk');
    const secret = api.get<{ data: Record<string, string> }>(RESOURCES.secret, 'ns', 'desk-gateway-api-key')!;
    const key = Buffer.from(secret.data['apiKey']!, 'base64').toString();
    expect(key).toBe('k'.repeat(64));
    const again = newReconciler({ newApiKey: () => 'other' });
    api.writes = [];
    await again.reconcile('ns/desk');
    const after = api.get<{ data: Record<string, string> }>(RESOURCES.secret, 'ns', 'desk-gateway-api-key')!;
    expect(Buffer.from(after.data['apiKey']!, 'base64').toString()).toBe(key);
  });

  it('generates the engine tokens once and keeps them, also one a person rotated (ADR 14)', async () => {
    create();
    let n = 0;
    const counting = newReconciler({ newApiKey: () => `token-${n++}` });
    await counting.reconcile('ns/desk');
    const tokens = () => {
      const s = api.get<{ data: Record<string, string> }>(RESOURCES.secret, 'ns', 'desk-engine-token')!;
      return Object.fromEntries(
        Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
      );
    };
    const first = tokens();
    expect(Object.keys(first).sort()).toEqual(['admin', 'backup', 'trading']);
    expect(new Set(Object.values(first)).size).toBe(3);
    // A rotation in progress: two trading tokens. The operator keeps them as they are.
    const s = api.get<{ data: Record<string, string> }>(RESOURCES.secret, 'ns', 'desk-engine-token')!;
    s.data['trading'] = Buffer.from(`${first['trading']}\nnew`).toString('base64');
    await newReconciler({ newApiKey: () => 'other' }).reconcile('ns/desk');
    expect(tokens()).toEqual({ ...first, trading: `${first['trading']}\nnew` });
  });

  it('admits its own pods and the scraper to the engines by namespace and labels', async () => {
    create();
    await newReconciler({
      operatorPeer: { namespace: 'ops', podLabels: { app: 'op' } },
      scraperPeer: { namespace: 'obs', podLabels: { app: 'prom' } },
    }).reconcile('ns/desk');
    const np = api.get<{ spec: { ingress: Array<{ from: unknown[] }> } }>(
      RESOURCES.networkPolicy,
      'ns',
      'desk-engine',
    )!;
    expect(np.spec.ingress[0]!.from.slice(2)).toEqual([
      {
        podSelector: { matchLabels: { app: 'op' } },
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ops' } },
      },
      {
        podSelector: { matchLabels: { app: 'prom' } },
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'obs' } },
      },
    ]);
  });

  it('re-applies only what changed, repairs deleted and hand-edited children', async () => {
    create();
    await reconciler.reconcile('ns/desk');
    api.put(RESOURCES.velozDeployment, { ...cr(), spec: { ...cr().spec, image: 'veloz:v2' } });
    api.writes = [];
    await reconciler.reconcile('ns/desk');
    expect(api.writes.filter((w) => w.startsWith('apply')).sort()).toEqual([
      'apply CronJob/desk-wal-backup',
      'apply StatefulSet/desk-engine',
      'apply StatefulSet/desk-gateway',
    ]);
    api.remove(RESOURCES.configMap, 'ns', 'desk-config');
    const sts = api.get<KubernetesObject & { spec: Record<string, unknown> }>(
      RESOURCES.statefulSet,
      'ns',
      'desk-engine',
    )!;
    api.put(RESOURCES.statefulSet, { ...sts, spec: { ...sts.spec, replicas: 7 } });
    api.writes = [];
    await reconciler.reconcile('ns/desk');
    expect(api.writes.filter((w) => w.startsWith('apply')).sort()).toEqual([
      'apply ConfigMap/desk-config',
      'apply StatefulSet/desk-engine',
    ]);
    expect(
      api.get<{ spec: { replicas: number } }>(RESOURCES.statefulSet, 'ns', 'desk-engine')!.spec.replicas,
    ).toBe(2);
  });

  it('grows the WAL: expands the claims, recreates the StatefulSet with its pods orphaned', async () => {
    create();
    await reconciler.reconcile('ns/desk');
    for (const i of [0, 1]) {
      api.put(RESOURCES.pvc, {
        // Claims from the volumeClaimTemplate carry its labels.
        metadata: {
          name: names('desk').walClaim(i),
          namespace: 'ns',
          labels: { 'app.kubernetes.io/instance': 'desk' },
        },
        spec: { resources: { requests: { storage: '1Gi' } } },
        status: { phase: 'Bound' },
      });
    }
    api.put(RESOURCES.velozDeployment, {
      ...cr(),
      spec: { ...cr().spec, wal: { storage: { size: '5Gi' } } },
    });
    api.writes = [];
    expect(await reconciler.reconcile('ns/desk')).toEqual({ requeueAfterMs: 1000 });
    expect(api.writes).toEqual(
      expect.arrayContaining([
        'patch PersistentVolumeClaim/wal-desk-engine-0',
        'patch PersistentVolumeClaim/wal-desk-engine-1',
        'delete StatefulSet/desk-engine',
      ]),
    );
    expect(api.writes).not.toContain('apply StatefulSet/desk-engine');
    expect(events).toContain('Normal WALResized');
    await reconciler.reconcile('ns/desk');
    const sts = api.get<{
      spec: { volumeClaimTemplates: Array<{ spec: { resources: { requests: { storage: string } } } }> };
    }>(RESOURCES.statefulSet, 'ns', 'desk-engine')!;
    expect(sts.spec.volumeClaimTemplates[0]!.spec.resources.requests.storage).toBe('5Gi');
  });

  it('prunes children that are no longer desired', async () => {
    create({ monitoring: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } } });
    await reconciler.reconcile('ns/desk');
    expect(api.get(RESOURCES.serviceMonitor, 'ns', 'desk')).toBeDefined();
    api.put(RESOURCES.velozDeployment, {
      ...cr(),
      spec: {
        ...cr().spec,
        monitoring: { serviceMonitor: { enabled: false }, prometheusRule: { enabled: false } },
      },
    });
    api.writes = [];
    await reconciler.reconcile('ns/desk');
    expect(api.writes.filter((w) => w.startsWith('delete')).sort()).toEqual([
      'delete PrometheusRule/desk',
      'delete ServiceMonitor/desk',
    ]);
    expect(events).toContain('Normal Pruned');
  });

  it('reports MonitoringReady=False when the monitoring API is not served', async () => {
    served = false;
    create({ monitoring: { serviceMonitor: { enabled: true } } });
    await reconciler.reconcile('ns/desk');
    expect(api.get(RESOURCES.serviceMonitor, 'ns', 'desk')).toBeUndefined();
    expect(condition('MonitoringReady')).toMatchObject({ status: 'False', reason: 'MonitoringAPINotServed' });
  });

  it('starts no trading pods in a live mode until the credentials Secret is complete, then rolls on changes', async () => {
    create({ execution: { mode: 'binance_testnet_spot', credentialsSecretRef: { name: 'creds' } } });
    await reconciler.reconcile('ns/desk');
    expect(api.get(RESOURCES.statefulSet, 'ns', 'desk-engine')).toBeUndefined();
    expect(condition('CredentialsReady')).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(events).toContain('Warning SecretNotFound');
    api.put(RESOURCES.secret, {
      metadata: { name: 'creds', namespace: 'ns' },
      data: { apiKey: Buffer.from('a').toString('base64') },
    });
    await reconciler.reconcile('ns/desk');
    expect(condition('CredentialsReady')).toMatchObject({ status: 'False', reason: 'KeyMissing' });
    expect(condition('CredentialsReady')?.['message' as 'reason']).toContain('apiSecret');
    api.put(RESOURCES.secret, {
      metadata: { name: 'creds', namespace: 'ns' },
      data: { apiKey: 'YQ==', apiSecret: 'Yg==' },
    });
    await reconciler.reconcile('ns/desk');
    const sts = () =>
      api.get<{ spec: { template: { metadata: { annotations: Record<string, string> } } } }>(
        RESOURCES.statefulSet,
        'ns',
        'desk-engine',
      )!;
    expect(sts()).toBeDefined();
    const before = JSON.stringify(sts().spec.template.metadata.annotations);
    api.put(RESOURCES.secret, {
      metadata: { name: 'creds', namespace: 'ns' },
      data: { apiKey: 'YQ==', apiSecret: 'Yw==' },
    });
    await reconciler.reconcile('ns/desk');
    expect(JSON.stringify(sts().spec.template.metadata.annotations)).not.toBe(before);
  });

  it('asks only ready engines for their WAL status and reports the answers per pair', async () => {
    const tracked: string[][] = [];
    const reports = new Map([[0, { walEntries: 42, lastCheckpoint: '2026-11-21T09:59:00.000Z' }]]);
    reconciler = newReconciler({
      wal: { track: (_ns, _d, pods) => void tracked.push([...pods.values()]), get: () => reports },
    });
    create();
    const pod = (name: string, ready: boolean) =>
      api.put(RESOURCES.pod, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'ns', labels: { 'app.kubernetes.io/instance': 'desk' } },
        status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
      });
    pod('desk-engine-0', true);
    pod('desk-engine-1', false);
    pod('desk-gateway-0', true);
    await reconciler.reconcile('ns/desk');
    expect(tracked.at(-1)).toEqual(['desk-engine-0']);
    expect(cr().status?.['pairs']).toMatchObject([
      {
        index: 0,
        engineReady: true,
        gatewayReady: true,
        walEntries: 42,
        lastCheckpoint: '2026-11-21T09:59:00.000Z',
      },
      { index: 1, engineReady: false, gatewayReady: false },
    ]);
    api.remove(RESOURCES.velozDeployment, 'ns', 'desk');
    await reconciler.reconcile('ns/desk');
    expect(tracked.at(-1)).toEqual([]);
  });

  it('announces a lost pair and its recovery once each, also while the cache lags the status writes', async () => {
    // While `lagging`, status writes reach the API (`held`) but not the cache, until caught up.
    let lagging = false;
    const held: unknown[] = [];
    const catchUp = async () => {
      for (const s of held.splice(0)) await api.applyStatus(RESOURCES.velozDeployment, 'ns', 'desk', s);
    };
    reconciler = newReconciler({
      nodes: { readable: true },
      writer: {
        apply: api.apply,
        mergePatch: api.mergePatch,
        delete: api.delete,
        applyStatus: async (r, ns, name, status) =>
          lagging ? (held.push(status), {} as never) : api.applyStatus(r, ns, name, status),
      },
    });
    create({ pairs: 1 });
    const node = (ready: 'True' | 'False') =>
      api.put(RESOURCES.node, {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: 'worker' },
        status: {
          conditions: [{ type: 'Ready', status: ready, lastTransitionTime: '2026-11-21T09:00:00Z' }],
        },
      });
    node('True');
    api.put(RESOURCES.pod, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'desk-engine-0', namespace: 'ns', labels: { 'app.kubernetes.io/instance': 'desk' } },
      spec: { nodeName: 'worker' },
    });
    await reconciler.reconcile('ns/desk');
    expect(condition('PairLost')).toMatchObject({ status: 'False', reason: 'NoPairLost' });
    const lost = () => events.filter((e) => /PairLost|PairRecovered/.test(e));
    const pairLost = () =>
      (held.at(-1) as { conditions: Array<{ type: string; status: string }> } | undefined)?.conditions.find(
        (c) => c.type === 'PairLost',
      )?.status ?? condition('PairLost')?.status;

    lagging = true;
    node('False');
    await reconciler.reconcile('ns/desk');
    await reconciler.reconcile('ns/desk');
    expect(lost()).toEqual(['Warning PairLost']);
    await catchUp();
    await reconciler.reconcile('ns/desk');
    expect(lost()).toEqual(['Warning PairLost']);
    expect(condition('PairLost')).toMatchObject({ status: 'True', reason: 'NodeNotReady' });

    node('True');
    await reconciler.reconcile('ns/desk');
    await reconciler.reconcile('ns/desk');
    expect(lost()).toEqual(['Warning PairLost', 'Normal PairRecovered']);
    expect(pairLost()).toBe('False');

    // Lost and back before the cache saw either write: the status the cache still shows (False)
    // is not the one the API holds (True), so it is written again.
    node('False');
    await reconciler.reconcile('ns/desk');
    node('True');
    await reconciler.reconcile('ns/desk');
    expect(lost()).toEqual([
      'Warning PairLost',
      'Normal PairRecovered',
      'Warning PairLost',
      'Normal PairRecovered',
    ]);
    expect(pairLost()).toBe('False');
    await catchUp();
    await reconciler.reconcile('ns/desk');
    expect(lost()).toHaveLength(4);
    expect(condition('PairLost')).toMatchObject({ status: 'False', reason: 'NoPairLost' });
  });

  it('writes nothing to children while paused, and reports it', async () => {
    create();
    await reconciler.reconcile('ns/desk');
    api.put(RESOURCES.velozDeployment, { ...cr(), spec: { ...cr().spec, paused: true, image: 'veloz:v3' } });
    api.writes = [];
    await reconciler.reconcile('ns/desk');
    expect(api.writes).toEqual(['status VelozDeployment/desk']);
    expect(condition('Paused')?.status).toBe('True');
  });

  it.each([
    ['409 conflict', new ApiError(409, 'Conflict', 'the object has been modified', {})],
    ['422 invalid', new ApiError(422, 'Invalid', 'spec.replicas: Invalid value', {})],
    ['timeout', new Error('PATCH timed out after 30000 ms')],
  ])('propagates an apply failure (%s) with Degraded=ApplyFailed', async (_n, error) => {
    create();
    api.failNext = { match: (verb, kind) => verb === 'apply' && kind === 'StatefulSet', error };
    await expect(reconciler.reconcile('ns/desk')).rejects.toThrow(error.message);
    expect(condition('Degraded')).toMatchObject({ status: 'True', reason: 'ApplyFailed' });
    expect(cr().status?.['phase']).toBe('Degraded');
    await reconciler.reconcile('ns/desk');
    expect(condition('Degraded')).toMatchObject({ status: 'False' });
  });

  it('treats a spec render() rejects as a terminal error', async () => {
    create();
    api.put(RESOURCES.velozDeployment, { ...cr(), metadata: { ...cr().metadata, name: '' } });
    api.objects.set('VelozDeployment/ns/desk', {
      ...cr(),
      metadata: { ...cr().metadata!, name: '' },
    });
    await expect(reconciler.reconcile('ns/desk')).rejects.toBeInstanceOf(TerminalError);
  });

  it('on deletion removes its strategies first, then its finalizer', async () => {
    create();
    await reconciler.reconcile('ns/desk');
    api.put(RESOURCES.velozStrategy, {
      metadata: { name: 'g', namespace: 'ns' },
      spec: { deploymentRef: { name: 'desk' } },
    });
    // The strategy reconciler gave the desk its finalizer (desk-finalizer.ts).
    api.put(RESOURCES.velozDeployment, {
      ...cr(),
      metadata: {
        ...cr().metadata,
        finalizers: [DEPLOYMENT_FINALIZER],
        deletionTimestamp: '2026-11-21T10:00:00Z',
      },
    });
    api.writes = [];
    expect(await reconciler.reconcile('ns/desk')).toEqual({ requeueAfterMs: 2000 });
    expect(api.writes).toEqual(['delete VelozStrategy/g', 'status VelozDeployment/desk']);
    expect(condition('Deleting')).toMatchObject({ status: 'True', reason: 'StrategiesStopping' });
    await reconciler.reconcile('ns/desk');
    // Its finalizer was the last: the API server deletes it.
    expect(api.writes.at(-1)).toBe('patch VelozDeployment/desk');
    expect(cr()).toBeUndefined();
  });
});

describe('DeploymentReconciler status while a desk rolls out (status-settle.ts)', () => {
  it('holds back a status that only reports progress, then writes it once the wait ends', async () => {
    let now = Date.parse('2026-11-21T10:00:00Z');
    reconciler = newReconciler({ statusSettleMs: 2_000, now: () => new Date(now) });
    create();
    expect(await reconciler.reconcile('ns/desk')).toEqual({ requeueAfterMs: 2_000 });
    expect(api.writes.filter((w) => w.startsWith('status'))).toEqual([]);
    expect(events).toEqual(['Normal Created']);
    now += 500;
    expect(await reconciler.reconcile('ns/desk')).toEqual({ requeueAfterMs: 1_500 });
    now += 1_500;
    await reconciler.reconcile('ns/desk');
    expect(api.writes.filter((w) => w.startsWith('status'))).toEqual(['status VelozDeployment/desk']);
    expect(cr().status).toMatchObject({ observedGeneration: 1, phase: 'Progressing' });
  });

  it('writes at once what is not progress: an apply failure', async () => {
    reconciler = newReconciler({ statusSettleMs: 2_000 });
    create();
    api.failNext = {
      match: (verb, kind) => verb === 'apply' && kind === 'StatefulSet',
      error: new ApiError(422, 'Invalid', 'invalid', {}),
    };
    await expect(reconciler.reconcile('ns/desk')).rejects.toThrow('invalid');
    expect(condition('Degraded')).toMatchObject({ status: 'True', reason: 'ApplyFailed' });
  });

  it('says Progressing, not Pending, for StatefulSets it applied that the cache has not seen yet', async () => {
    const cache = api.cache;
    reconciler = newReconciler({
      cache: {
        ...cache,
        get: (r, ns, name) => (r === RESOURCES.statefulSet ? undefined : cache.get(r, ns, name)),
      },
    });
    create();
    await reconciler.reconcile('ns/desk');
    expect(cr().status).toMatchObject({ observedGeneration: 1, phase: 'Progressing' });
  });
});
