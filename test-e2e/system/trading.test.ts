// Real pods trade: the quickstart deployment's pods run the image, orders placed through the
// gateway Service fill against the simulated market, a VelozStrategy trades and its deletion
// cancels its orders, and an engine pod deleted under order load comes back with every
// acknowledged order (the operator runs in the cluster, installed with its Helm chart).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubeClient } from '@veloz/operator/kube/client';
import { RESOURCES } from '@veloz/operator/kube/resources';
import { createNamespace, eventually } from '../support/cluster.ts';
import {
  client,
  Gateway,
  kubectl,
  quickstart,
  quickstartTrading,
  ready,
  skipReason,
} from './support/system.ts';
import { DEFAULT_IMAGE } from '@veloz/api/image';
import { names } from '@veloz/api/names';
import { restingOrder } from '@veloz/testing/kill-under-load';

const q = names('quickstart');

let c: KubeClient;
let ns: { name: string; remove: () => Promise<void> };

describe.skipIf(skipReason() !== '')('real pods: trading', () => {
  beforeEach(async () => {
    c = client();
    ns = await createNamespace(c, 'sys');
  });
  afterEach(async () => {
    await ns.remove();
    c.close();
  });

  it('runs the quickstart: pods Ready with the image, an order fills through the gateway Service', async () => {
    const { deployment } = await quickstart(ns.name);
    await c.apply(deployment);
    const d = await ready(c, ns.name, 'quickstart');
    expect(d.status?.['readyPairs']).toBe(1);
    const pods = JSON.parse(
      kubectl(
        '-n',
        ns.name,
        'get',
        'pods',
        '-l',
        'app.kubernetes.io/component in (engine,gateway)',
        '-o',
        'json',
      ),
    ) as {
      items: Array<{
        metadata: { name: string };
        spec: { containers: Array<{ image: string }> };
        status: { phase: string };
      }>;
    };
    expect(pods.items.map((p) => p.metadata.name).sort()).toEqual([q.enginePod(0), q.gatewayPod(0)]);
    for (const p of pods.items) {
      expect(p.status.phase).toBe('Running');
      expect(p.spec.containers[0]!.image).toBe(DEFAULT_IMAGE);
    }

    const gw = await Gateway.of(c, ns.name, 'quickstart');
    const unauthorized = await fetch(`${gw.url}/api/orders_state`);
    expect(unauthorized.status).toBe(401);
    const placed = await gw.call('POST', '/api/orders', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'MARKET',
      quantity: '0.001',
      clientOrderId: 'sys-market-1',
    });
    expect(placed.status).toBe(201);
    const filled = await eventually('the market order to fill', async () =>
      (await gw.orders()).find((o) => o.clientOrderId === 'sys-market-1' && o.status === 'FILLED'),
    );
    expect(filled.filledQuantity).toBe('0.00100'); // BTCUSDT has 5 quantity decimals
    // The operator reads the engine's WAL status into the pair's status.
    const acked = (placed.body as { lastSequence: number }).lastSequence;
    const pair = await eventually('status.pairs[0].walEntries to reach the order', async () => {
      const cur = await c.get<{ status?: { pairs?: Array<{ walEntries?: number }> } }>(
        RESOURCES.velozDeployment,
        ns.name,
        'quickstart',
      );
      const p = cur.status?.pairs?.[0];
      return p?.walEntries !== undefined && p.walEntries >= acked ? p : undefined;
    });
    expect(pair.walEntries).toBeGreaterThanOrEqual(acked);

    // Self-fencing (ADR 0018): the engine pod holds its pair's Lease with its own token, as
    // <pod name>_<pod uid> (not fenced: it is Ready and took the order above, which it refuses while fenced).
    const engineUid = JSON.parse(kubectl('-n', ns.name, 'get', 'pod', q.enginePod(0), '-o', 'json')) as {
      metadata: { uid: string };
    };
    const lease = JSON.parse(kubectl('-n', ns.name, 'get', 'lease', q.engineLease(0), '-o', 'json')) as {
      spec: { holderIdentity?: string };
    };
    expect(lease.spec.holderIdentity).toBe(`${q.enginePod(0)}_${engineUid.metadata.uid}`);
  });

  it('trades a grid VelozStrategy, and cancels its open orders when it is deleted', async () => {
    const s = await quickstartTrading(c, ns.name);
    expect(s.status?.['realizedPnl']).toMatch(/^-?\d+(\.\d+)?$/);
    const gw = await Gateway.of(c, ns.name, 'quickstart');
    const open = (await gw.orders('open')).filter((o) => o.strategy === 'quickstart-grid');
    expect(open.length).toBeGreaterThan(0);

    await c.delete(RESOURCES.velozStrategy, ns.name, 'quickstart-grid');
    await eventually(
      'the strategy (and its finalizer) to be gone',
      async () => (await c.find(RESOURCES.velozStrategy, ns.name, 'quickstart-grid')) === undefined,
      120_000,
      1000,
    );
    const left = (await gw.orders('open')).filter((o) => o.strategy === 'quickstart-grid');
    expect(left).toEqual([]);
    const all = (await gw.orders('all')).filter((o) => o.strategy === 'quickstart-grid');
    expect(all.some((o) => o.status === 'CANCELED')).toBe(true);
  });

  it('keeps every acknowledged order when the engine pod is deleted under order load', async () => {
    const { deployment } = await quickstart(ns.name);
    await c.apply(deployment);
    await ready(c, ns.name, 'quickstart');
    const gw = await Gateway.of(c, ns.name, 'quickstart');
    // Asynchronously: a kubectl run would stall the load clients while it runs.
    const uid = async () => (await c.find(RESOURCES.pod, ns.name, q.enginePod(0)))?.metadata?.uid;
    const before = await uid();

    // Clients place resting orders until told to stop; every 201 is an acknowledgement.
    const acked = new Map<string, number>();
    let unavailable = 0; // 5XX answers and failed connections while the engine is away
    let stop = false;
    const client = async (id: number) => {
      for (let i = 0; !stop; i++) {
        const clientOrderId = `load-${id}-${i}`;
        try {
          // A tenth of the usual quantity: the quickstart's maxPosition (0.01) counts open orders.
          const r = await gw.call<{ lastSequence: number }>('POST', '/api/orders', {
            ...restingOrder(clientOrderId, i),
            quantity: '0.001',
          });
          if (r.status === 201) acked.set(clientOrderId, r.body.lastSequence);
          else if (r.status >= 500) unavailable++;
          // 429: the engine's order rate limit (10/s by default); back off a little
          if (r.status !== 201) await new Promise((res) => setTimeout(res, 50));
        } catch {
          unavailable++;
          await new Promise((res) => setTimeout(res, 100));
        }
      }
    };
    const clients = [0, 1, 2, 3].map((i) => client(i));
    await eventually('orders to be acknowledged', async () => acked.size >= 50, 60_000);
    kubectl('-n', ns.name, 'delete', 'pod', q.enginePod(0), '--wait=false');
    await eventually(
      'a new engine pod',
      async () => {
        const now = await uid();
        return now !== undefined && now !== before;
      },
      120_000,
      500,
    );
    const ackedDuringRestart = acked.size;
    await ready(c, ns.name, 'quickstart');
    // The gateway recovers by itself: orders are acknowledged again after the restart.
    await eventually(
      'acknowledgements after the restart',
      async () => acked.size > ackedDuringRestart + 20,
      120_000,
    );
    stop = true;
    await Promise.all(clients);

    const recovered = new Map((await gw.orders('all')).map((o) => [o.clientOrderId, o]));
    const lost = [...acked.keys()].filter((id) => !recovered.has(id));
    expect(lost).toEqual([]);
    expect(unavailable).toBeGreaterThan(0); // the engine really was away for a while
    console.log(
      `engine pod deleted under load: ${acked.size} acknowledged orders, all present; ${unavailable} requests failed while it was away`,
    );
  });
});
