// A worker lost under order load, on a kind cluster made by hack/kind-up.sh (its nodes are
// containers the case can freeze): the pair on the surviving node keeps taking orders, the
// operator reports the lost pair (PairLost, a Warning Event), and once the node is back the
// pair's engine, restarted on its own volume, has every order it acknowledged. The recovery
// steps are docs/runbooks/node-loss.md's. Skipped, saying why, on any other cluster.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { names } from '@veloz/api/names';
import type { KubeClient } from '@veloz/operator/kube/client';
import { ApiError } from '@veloz/operator/kube/client';
import { RESOURCES, type KubernetesObject } from '@veloz/operator/kube/resources';
import { eventually } from './support/cluster.ts';
import { operatorPerTest } from './support/operator-per-test.ts';
import { sample } from './support/samples.ts';

const ROOT = join(import.meta.dirname, '..');
const q = names('quickstart');
const NODE = { group: '', version: 'v1', kind: 'Node', plural: 'nodes', namespaced: false } as const;

type Obj = KubernetesObject & { spec: Record<string, unknown>; status?: Record<string, unknown> };
interface Node {
  metadata: { name: string };
  spec: { providerID?: string; unschedulable?: boolean; taints?: Array<{ effect: string }> };
}
interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
interface Order {
  clientOrderId?: string;
}

let c: KubeClient;
let ns: { name: string; remove: () => Promise<void> };
operatorPerTest((t) => ({ c, ns } = t));

/** kind's nodes carry `kind://<provider>/<cluster>/<node>`; anything else is not one we can freeze. */
async function kindCluster(): Promise<{ provider: string; cluster: string; workers: string[] } | string> {
  const nodes = (await c.list<Node>(NODE)).items;
  const ids = nodes.map((n) => /^kind:\/\/(docker|podman)\/([^/]+)\//.exec(n.spec.providerID ?? ''));
  if (ids.some((m) => !m)) return 'not a kind cluster (a node has no kind:// provider ID)';
  const workers = nodes
    .filter((n) => !n.spec.unschedulable && !(n.spec.taints ?? []).some((t) => t.effect === 'NoSchedule'))
    .map((n) => n.metadata.name);
  if (workers.length < 2) return `needs two schedulable kind nodes, the cluster has ${workers.length}`;
  return { provider: ids[0]![1]!, cluster: ids[0]![2]!, workers };
}

function kindNode(kind: { provider: string; cluster: string }, action: 'pause' | 'unpause', node: string) {
  execFileSync('bash', [join(ROOT, 'hack', 'kind-up.sh'), 'node', action, node], {
    env: { ...process.env, VELOZ_KIND_PROVIDER: kind.provider, VELOZ_KIND_CLUSTER: kind.cluster },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

const desk = () => c.find<Obj>(RESOURCES.velozDeployment, ns.name, 'quickstart');
const pod = (name: string) => c.get<Obj>(RESOURCES.pod, ns.name, name);
const nodeOf = async (name: string) => (await pod(name)).spec['nodeName'] as string;
const condition = (conds: unknown, type: string) =>
  (conds as Condition[] | undefined)?.find((x) => x.type === type);

async function readyPairs(pairs: number): Promise<void> {
  await eventually(
    `${pairs} pairs ready`,
    async () => {
      const d = await desk();
      return (
        d?.status?.['observedGeneration'] === d?.metadata?.generation && d?.status?.['readyPairs'] === pairs
      );
    },
    300_000,
  );
}

/** A pair's gateway through the API server's pod proxy (kind's pod IPs are not routed to the host). */
function gateway(pair: number, key: string) {
  const path = (p: string) => `/api/v1/namespaces/${ns.name}/pods/${q.gatewayPod(pair)}:8080/proxy${p}`;
  return {
    order: (clientOrderId: string) =>
      c.request<unknown>('POST', path('/api/orders'), {
        verb: 'create',
        kind: 'pods/proxy',
        headers: { 'x-api-key': key },
        body: {
          symbol: 'BTCUSDT',
          side: 'BUY',
          type: 'LIMIT',
          quantity: '0.001',
          price: '10000.00',
          clientOrderId,
        },
        timeoutMs: 5_000,
      }),
    orders: async () =>
      (
        await c.request<{ orders: Order[] }>('GET', path('/api/orders_state'), {
          verb: 'get',
          kind: 'pods/proxy',
          headers: { 'x-api-key': key },
          timeoutMs: 10_000,
        })
      ).orders,
  };
}

/** Places an order every 200 ms until stopped; what was acknowledged (201) and what failed. */
function load(pair: number, key: string) {
  const g = gateway(pair, key);
  const acked: string[] = [];
  const failed: string[] = [];
  let stop = false;
  const done = (async () => {
    for (let n = 0; !stop; n++) {
      const id = `nl-${pair}-${n}`;
      try {
        await g.order(id);
        acked.push(id);
      } catch (err) {
        // 429: the engine's order rate limit, not an outage.
        if (!(err instanceof ApiError && err.status === 429))
          failed.push(`${id}: ${err instanceof Error ? err.message : String(err)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    acked,
    failed,
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

describe('a node lost under load', () => {
  it('keeps the other pair serving, reports the lost pair, and gets back every acknowledged order', async (ctx) => {
    const kind = await kindCluster();
    if (typeof kind === 'string') {
      console.warn(`skipped "a node lost under load": ${kind}`);
      ctx.skip(kind);
      return;
    }
    const d = await sample<Obj>('VelozDeployment', ns.name);
    await c.apply({ ...d, spec: { ...d.spec, pairs: 2 } });
    await readyPairs(2);
    const lost = await nodeOf(q.enginePod(1));
    expect(await nodeOf(q.enginePod(0)), 'the engines spread over the workers').not.toBe(lost);
    if ((await nodeOf(q.gatewayPod(0))) === lost) {
      // Pair 0 must be whole on the surviving node: move its gateway there.
      await c.mergePatch(NODE, undefined, lost, { spec: { unschedulable: true } });
      try {
        await c.delete(RESOURCES.pod, ns.name, q.gatewayPod(0));
        await eventually('gateway 0 off the node to lose', async () => {
          const p = await c.find<Obj>(RESOURCES.pod, ns.name, q.gatewayPod(0));
          return !!p?.spec['nodeName'] && p.spec['nodeName'] !== lost;
        });
      } finally {
        await c.mergePatch(NODE, undefined, lost, { spec: { unschedulable: null } });
      }
      await readyPairs(2);
    }
    const secret = await c.get<{ data: Record<string, string> }>(RESOURCES.secret, ns.name, q.apiKeySecret);
    const key = Buffer.from(secret.data['apiKey']!, 'base64').toString('utf8');
    const loads = [load(0, key), load(1, key)];
    await eventually('orders acknowledged by both pairs', async () =>
      loads.every((l) => l.acked.length >= 5),
    );

    let paused = false;
    try {
      kindNode(kind, 'pause', lost);
      paused = true;
      const pairLost = await eventually(
        'PairLost=True',
        async () => {
          const cond = condition((await desk())?.status?.['conditions'], 'PairLost');
          return cond?.status === 'True' && cond;
        },
        180_000,
      );
      expect(pairLost.reason).toBe('NodeNotReady');
      expect(pairLost.message).toContain(lost);
      expect(pairLost.message).toContain('docs/runbooks/node-loss.md');
      const pair1 = (
        (await desk())?.status?.['pairs'] as Array<{ index: number; conditions?: Condition[] }>
      )[1];
      expect(condition(pair1?.conditions, 'NodeReady')).toMatchObject({
        status: 'False',
        reason: 'NodeNotReady',
      });
      await eventually('a Warning Event for the lost pair', async () =>
        (
          await c.list<Obj & { reason?: string; type?: string; involvedObject?: { name?: string } }>(
            RESOURCES.event,
            ns.name,
          )
        ).items.find(
          (e) =>
            e.involvedObject?.name === 'quickstart' && e.type === 'Warning' && e.reason === 'NodeNotReady',
        ),
      );
      // The surviving pair keeps taking orders while the node is gone.
      const before = loads[0]!.acked.length;
      await eventually(
        'pair 0 to acknowledge 20 more orders',
        async () => loads[0]!.acked.length >= before + 20,
        120_000,
      );
    } finally {
      await Promise.all(loads.map((l) => l.stop()));
      if (paused) kindNode(kind, 'unpause', lost);
    }
    expect(loads[0]!.failed, 'pair 0 refused no order').toEqual([]);

    // The runbook's "the node comes back": the pair returns by itself; its engine, restarted on
    // its own volume, replays every order it acknowledged.
    await eventually(
      'PairLost=False',
      async () => condition((await desk())?.status?.['conditions'], 'PairLost')?.status === 'False',
      300_000,
    );
    const uid = (await pod(q.enginePod(1))).metadata?.uid;
    await c.delete(RESOURCES.pod, ns.name, q.enginePod(1));
    await eventually(
      'engine 1 restarted and ready',
      async () => {
        const p = await c.find<Obj>(RESOURCES.pod, ns.name, q.enginePod(1));
        return (
          !!p && p.metadata?.uid !== uid && condition(p.status?.['conditions'], 'Ready')?.status === 'True'
        );
      },
      300_000,
    );
    for (const [pair, l] of loads.entries()) {
      const held = new Set((await gateway(pair, key).orders()).map((o) => o.clientOrderId));
      expect(
        l.acked.filter((id) => !held.has(id)),
        `pair ${pair}: acknowledged orders missing after the node came back`,
      ).toEqual([]);
    }
  });
});
