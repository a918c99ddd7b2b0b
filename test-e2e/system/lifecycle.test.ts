// Real pods through a deployment's life: scale 1 -> 3 -> 1, a new image tag, pause and resume,
// hibernate (pairs: 0) and wake up with the WAL intact. The operator runs in the cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient } from '@veloz/operator/kube/client';
import { RESOURCES } from '@veloz/operator/kube/resources';
import { createNamespace, eventually } from '../support/cluster.ts';
import {
  client,
  condition,
  Gateway,
  kubectl,
  localCluster,
  nodeCtr,
  type Obj,
  quickstart,
  ready,
  skipReason,
} from './support/system.ts';
import { DEFAULT_IMAGE } from '@veloz/api/image';
import { names } from '@veloz/api/names';

const q = names('quickstart');
const SECOND_TAG = `${DEFAULT_IMAGE}-system`;

let c: KubeClient;
let ns: { name: string; remove: () => Promise<void> };

// Engine and gateway pods (the backup CronJob's Jobs leave pods too).
const PAIR_PODS = 'app.kubernetes.io/component in (engine,gateway)';
const podNames = (): string[] =>
  kubectl('-n', ns.name, 'get', 'pods', '-l', PAIR_PODS, '-o', 'jsonpath={.items[*].metadata.name}')
    .split(' ')
    .filter(Boolean)
    .sort();

const update = async (spec: Record<string, unknown>): Promise<number> =>
  (await c.mergePatch<Obj>(RESOURCES.velozDeployment, ns.name, 'quickstart', { spec })).metadata!.generation!;

async function placeResting(gw: Gateway, id: string): Promise<void> {
  const r = await gw.place({
    symbol: 'BTCUSDT',
    side: 'BUY',
    type: 'LIMIT',
    quantity: '0.001',
    price: '10000.00',
    clientOrderId: id,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
}

describe.skipIf(skipReason() !== '')('real pods: a deployment through its life', () => {
  beforeAll(async () => {
    c = client();
    ns = await createNamespace(c, 'life');
    await c.apply((await quickstart(ns.name)).deployment);
    await ready(c, ns.name, 'quickstart');
  });
  afterAll(async () => {
    await ns.remove();
    c.close();
  });

  it('scales pairs 1 -> 3 -> 1, each pair with its own engine, and keeps pair 0 untouched', async () => {
    const gw = await Gateway.of(c, ns.name, 'quickstart');
    await placeResting(gw, 'before-scale');
    await update({ pairs: 3 });
    const d = await ready(c, ns.name, 'quickstart', 400_000);
    expect(d.status?.['readyPairs']).toBe(3);
    expect(podNames().filter((p) => p.startsWith(q.enginePod('')))).toEqual([
      q.enginePod(0),
      q.enginePod(1),
      q.enginePod(2),
    ]);
    await update({ pairs: 1 });
    await ready(c, ns.name, 'quickstart');
    await eventually('pairs 1 and 2 to be gone', async () => podNames().length === 2, 120_000, 1000);
    expect((await gw.orders()).map((o) => o.clientOrderId)).toContain('before-scale');
  });

  it.skipIf(localCluster() === '')('rolls the pods to a new image tag', async () => {
    // A second tag of the same image on the node (nothing can be pulled here).
    nodeCtr(
      'images',
      'tag',
      '--force',
      `docker.io/library/${DEFAULT_IMAGE}`,
      `docker.io/library/${SECOND_TAG}`,
    );
    const generation = await update({ image: SECOND_TAG });
    await ready(c, ns.name, 'quickstart');
    const images = await eventually(
      'every pod on the new image',
      async () => {
        const pods = JSON.parse(kubectl('-n', ns.name, 'get', 'pods', '-l', PAIR_PODS, '-o', 'json')) as {
          items: Array<{ spec: { containers: Array<{ image: string }> }; status: { phase: string } }>;
        };
        const all = pods.items.map((p) => p.spec.containers[0]!.image);
        return all.length === 2 && all.every((i) => i === SECOND_TAG) && all;
      },
      180_000,
      1000,
    );
    expect(images).toHaveLength(2);
    expect((await ready(c, ns.name, 'quickstart')).status?.['observedGeneration']).toBe(generation);
    const gw = await Gateway.of(c, ns.name, 'quickstart');
    expect((await gw.orders()).map((o) => o.clientOrderId)).toContain('before-scale');
  });

  it('pauses (hands off: changes wait) and resumes', async () => {
    await update({ paused: true });
    await eventually(
      'the Paused condition',
      async () =>
        condition(await c.find<Obj>(RESOURCES.velozDeployment, ns.name, 'quickstart'), 'Paused')?.status ===
        'True',
      60_000,
    );
    await update({ pairs: 2 });
    // Hands off: nothing is created while paused.
    await new Promise((r) => setTimeout(r, 5000));
    expect(podNames().filter((p) => p.startsWith(q.enginePod('')))).toEqual([q.enginePod(0)]);
    await update({ paused: false });
    const d = await ready(c, ns.name, 'quickstart', 300_000);
    expect(d.status?.['readyPairs']).toBe(2);
    await update({ pairs: 1 });
    await ready(c, ns.name, 'quickstart');
  });

  it('hibernates (pairs: 0: pods gone, WAL claims kept) and wakes up with the WAL intact', async () => {
    const gw = await Gateway.of(c, ns.name, 'quickstart');
    await placeResting(gw, 'before-hibernate');
    const before = await gw.orders();
    await update({ pairs: 0 });
    await eventually('every pod to be gone', async () => podNames().length === 0, 180_000, 1000);
    const claims = kubectl('-n', ns.name, 'get', 'pvc', '-o', 'jsonpath={.items[*].metadata.name}');
    expect(claims).toContain(q.walClaim(0));
    await update({ pairs: 1 });
    await ready(c, ns.name, 'quickstart');
    const after = await eventually('the gateway to answer', async () => {
      const orders = await gw.orders();
      return orders.length > 0 && orders;
    });
    expect(after.map((o) => [o.clientOrderId, o.status, o.lastSequence])).toEqual(
      before.map((o) => [o.clientOrderId, o.status, o.lastSequence]),
    );
  });
});
