// Maintenance windows end to end: the operator (in this process, on a fake clock) on a real API
// server (its own local cluster, hack/cluster.sh; pods are kwok fakes run by the real StatefulSet
// controller). A new image for a desk whose window is closed leaves the engine pod on the old
// image, with RolloutPending naming the next window; the gateways roll at once. The engine rolls
// when the clock reaches the window, or at once when forced by the annotation.
import type { Condition } from '@veloz/api/generated/types';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateCluster, clusterBinariesBuilt, until } from '@veloz/testing/private-cluster';
import { FakeClock } from '@veloz/testing/fake-clock';
import { loadOperatorConfig } from './config.ts';
import { EngineUnreachableError, type EngineAccess } from './engine-access.ts';
import { startOperator, type RunningOperator } from './manager.ts';

const NS = 'desk-window';
const built = clusterBinariesBuilt();

interface Desk {
  metadata: { annotations?: Record<string, string> };
  status?: { conditions?: Condition[] };
}
interface Sts {
  metadata: { labels?: Record<string, string> };
  spec: {
    updateStrategy: { rollingUpdate?: { partition?: number } };
    template: { spec: { containers: Array<{ image: string }> } };
  };
  status?: { currentRevision?: string; updateRevision?: string };
}
interface Pod {
  metadata: { labels?: Record<string, string> };
  spec: { containers: Array<{ image: string }> };
}

describe.skipIf(!built)(
  built
    ? 'maintenance windows on a local cluster'
    : 'maintenance windows on a local cluster: SKIPPED, the cluster binaries are not built (run hack/build-k8s.sh)',
  () => {
    const cluster = new PrivateCluster('window');
    // A Friday noon, UTC: the nightly window opens at 22:00.
    const clock = new FakeClock(Date.parse('2026-12-04T12:00:00Z'));
    let operator: RunningOperator | undefined;
    let engineAnswers: ((path: string) => unknown) | undefined;
    const kubectl = cluster.kubectl.bind(cluster);
    const ok = cluster.ok.bind(cluster);
    const get = <T>(what: string): T | undefined => {
      const r = kubectl(['-n', NS, 'get', what, '-o', 'json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as T) : undefined;
    };
    const pending = () => get<Desk>('vzd/desk')?.status?.conditions?.find((c) => c.type === 'RolloutPending');
    const image = (o: { spec: { containers: Array<{ image: string }> } } | undefined) =>
      o?.spec.containers[0]?.image;
    const engineSts = () => get<Sts>('statefulset/desk-engine');
    const enginePod = () => get<Pod>('pod/desk-engine-0');
    // A change of the desk wakes the operator at once instead of at its next requeue.
    let pokes = 0;
    const poke = () => ok(kubectl(['-n', NS, 'annotate', '--overwrite', 'vzd/desk', `test/poke=${++pokes}`]));
    const setImage = (img: string) =>
      ok(
        kubectl([
          '-n',
          NS,
          'patch',
          'vzd/desk',
          '--type=merge',
          '-p',
          JSON.stringify({ spec: { image: img } }),
        ]),
      );
    const podOn = (img: string, what: string) =>
      until(what, () => (image(enginePod()) === img ? true : undefined));

    beforeAll(async () => {
      cluster.up({ crds: true });
      ok(kubectl(['create', 'namespace', NS]));
      cluster.apply(
        {
          apiVersion: 'veloz.io/v1alpha1',
          kind: 'VelozDeployment',
          metadata: { name: 'desk' },
          spec: {
            image: 'veloz:old',
            pairs: 1,
            maintenance: {
              policy: 'InWindow',
              windows: [{ schedule: '0 22 * * *', duration: '1h', timeZone: 'UTC' }],
            },
          },
        },
        NS,
      );
      const cfg = loadOperatorConfig(
        ['--namespaces', NS, '--kubeconfig', cluster.kubeconfig, '--metrics-port', '0'],
        {},
      );
      // The engine pods are kwok fakes: nothing answers, unless the test answers for them.
      const access: EngineAccess = {
        call: <T>(ns: string, pod: string, _m: string, path: string) => {
          const body = engineAnswers?.(path);
          return body === undefined
            ? Promise.reject(new EngineUnreachableError(`engine ${ns}/${pod}: a kwok fake`))
            : Promise.resolve({ status: 200, body: body as T });
        },
      };
      operator = await startOperator(cfg, pino({ level: 'silent' }), access, () => new Date(clock.now()));
    }, 600_000);

    afterAll(async () => {
      await operator?.stop();
      cluster.down();
    }, 120_000);

    it('creates the engines at once, with nothing pending', async () => {
      await podOn('veloz:old', 'the engine pod on veloz:old');
      const c = await until('RolloutPending', pending);
      expect(c).toMatchObject({ status: 'False', reason: 'NoPendingChange' });
    });

    it('keeps the engine on the old image while the window is closed, naming the next window', async () => {
      setImage('veloz:new');
      const c = await until('RolloutPending=True', () =>
        pending()?.status === 'True' ? pending() : undefined,
      );
      expect(c.reason).toBe('WaitingForWindow');
      expect(c.message).toContain('the next maintenance window, at 2026-12-04T22:00:00.000Z');
      // Gateways are stateless: they roll at once.
      await until('the gateway template on veloz:new', () =>
        image(get<Sts>('statefulset/desk-gateway')?.spec.template) === 'veloz:new' ? true : undefined,
      );
      const sts = await until('the engine StatefulSet partitioned', () => {
        const s = engineSts();
        return s?.spec.updateStrategy.rollingUpdate?.partition === 1 ? s : undefined;
      });
      expect(sts.metadata.labels?.['veloz.io/released-template']).toBeTruthy();
      // The StatefulSet controller has seen the new revision, and keeps the pod on the old one.
      await until('a new revision', () => {
        const s = engineSts();
        return s?.status?.updateRevision && s.status.updateRevision !== s.status.currentRevision
          ? true
          : undefined;
      });
      poke();
      await new Promise((r) => setTimeout(r, 5_000));
      expect(image(enginePod())).toBe('veloz:old');
      expect(pending()).toMatchObject({ status: 'True', reason: 'WaitingForWindow' });
      const events = JSON.parse(ok(kubectl(['-n', NS, 'get', 'events', '-o', 'json']))) as {
        items: Array<{ reason: string; message: string }>;
      };
      expect(events.items.find((e) => e.reason === 'RolloutPending')?.message).toContain(
        '2026-12-04T22:00:00.000Z',
      );
    });

    it('rolls the engine when the window opens', async () => {
      await clock.advance(10 * 3_600_000 + 30_000, 3_600_000);
      poke();
      await podOn('veloz:new', 'the engine pod on veloz:new');
      const c = await until('nothing pending', () =>
        pending()?.status === 'False' ? pending() : (poke(), undefined),
      );
      expect(['Released', 'NoPendingChange']).toContain(c.reason);
      expect(engineSts()?.spec.updateStrategy.rollingUpdate?.partition).toBe(0);
    });

    it('rolls at once, outside the window, when forced by the annotation (which it then removes)', async () => {
      await clock.advance(3_600_000, 3_600_000); // 23:00:30: the window has closed
      setImage('veloz:newer');
      await until('RolloutPending=True', () => (pending()?.status === 'True' ? true : undefined));
      expect(image(enginePod())).toBe('veloz:new');
      ok(kubectl(['-n', NS, 'annotate', 'vzd/desk', 'veloz.io/rollout-now=true']));
      await podOn('veloz:newer', 'the engine pod on veloz:newer');
      await until('the annotation removed', () =>
        get<Desk>('vzd/desk')?.metadata.annotations?.['veloz.io/rollout-now'] === undefined
          ? true
          : undefined,
      );
      const events = JSON.parse(ok(kubectl(['-n', NS, 'get', 'events', '-o', 'json']))) as {
        items: Array<{ reason: string; message: string }>;
      };
      expect(events.items.some((e) => e.reason === 'RolloutForced')).toBe(true);
    });

    it('WhenFlat: rolls once the engine has had no open order and no position change for flatSeconds', async () => {
      let open = ['NEW'];
      engineAnswers = (path) =>
        path === '/api/orders_state'
          ? { orders: open.map((status, i) => ({ orderId: i, status })), lastSequence: 1, next: null }
          : path === '/api/positions'
            ? { positions: [] }
            : undefined;
      ok(
        kubectl([
          '-n',
          NS,
          'patch',
          'vzd/desk',
          '--type=merge',
          '-p',
          JSON.stringify({
            spec: {
              image: 'veloz:flat',
              maintenance: { policy: 'WhenFlat', flatSeconds: 60, windows: null },
            },
          }),
        ]),
      );
      const c = await until('WaitingForFlat', () =>
        pending()?.reason === 'WaitingForFlat' ? pending() : (poke(), undefined),
      );
      expect(c.message).toContain('no position changed for 60s');
      open = ['FILLED'];
      poke();
      await until('flat since', () =>
        pending()?.message.includes('flat since') ? true : (poke(), undefined),
      );
      await new Promise((r) => setTimeout(r, 3_000));
      expect(image(enginePod())).toBe('veloz:newer');
      await clock.advance(61_000, 61_000);
      poke();
      await until('the engine pod on veloz:flat', () =>
        image(enginePod()) === 'veloz:flat' ? true : (poke(), undefined),
      );
    });
  },
);
