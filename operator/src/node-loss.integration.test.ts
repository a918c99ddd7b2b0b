// Node loss end to end: the operator (in this process) on a real API server (its own local
// cluster, hack/cluster.sh). The desk's engine pod is bound to a Node object of the test's own,
// which no kubelet or kwok runs, so the test alone says how it is: Ready, not Ready (through the
// status subresource, as a kubelet or the node lifecycle controller would), Ready again, deleted.
// The kwok node is cordoned, so the scheduler leaves the pod to the test's Binding.
import type { Condition } from '@veloz/api/generated/types';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateCluster, clusterBinariesBuilt, until } from '@veloz/testing/private-cluster';
import { loadOperatorConfig } from './config.ts';
import { startOperator, type RunningOperator } from './manager.ts';

const NS = 'desk-nodeloss';
const NODE = 'worker-lost';
const built = clusterBinariesBuilt();

interface Desk {
  status?: { conditions?: Condition[]; pairs?: Array<{ index: number; conditions?: Condition[] }> };
}
interface Events {
  items: Array<{ type: string; reason: string; message: string; involvedObject: { name: string } }>;
}

describe.skipIf(!built)(
  built
    ? 'PairLost on a local cluster'
    : 'PairLost on a local cluster: SKIPPED, the cluster binaries are not built (run hack/build-k8s.sh)',
  () => {
    const cluster = new PrivateCluster('nodeloss');
    let operator: RunningOperator | undefined;
    const kubectl = cluster.kubectl.bind(cluster);
    const ok = cluster.ok.bind(cluster);
    const desk = (): Desk => cluster.json<Desk>(NS, 'vzd', 'desk');
    const pairLost = (d: Desk) => d.status?.conditions?.find((c) => c.type === 'PairLost');
    const nodeReady = (d: Desk) =>
      d.status?.pairs?.find((p) => p.index === 0)?.conditions?.find((c) => c.type === 'NodeReady');
    const events = (reason: string) =>
      cluster
        .json<Events>(NS, 'events')
        .items.filter((e) => e.reason === reason && e.involvedObject.name === 'desk');
    /** Sets the node's Ready condition, heartbeat now, as its kubelet would. */
    const setReady = (status: 'True' | 'False' | 'Unknown', reason: string, message: string) => {
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const ready = {
        type: 'Ready',
        status,
        reason,
        message,
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      };
      ok(
        kubectl([
          'patch',
          'node',
          NODE,
          '--subresource=status',
          '--type=merge',
          '-p',
          JSON.stringify({ status: { conditions: [ready] } }),
        ]),
      );
    };
    /** Waits until the desk's status satisfies `test`, then returns it. */
    const deskWhen = (what: string, test: (d: Desk) => boolean) =>
      until(what, () => {
        const d = desk();
        return test(d) ? d : undefined;
      }).catch((err: unknown) => {
        throw new Error(`${String(err)}; status: ${JSON.stringify(desk().status)}`);
      });

    beforeAll(async () => {
      cluster.up({ crds: true });
      for (const n of ok(kubectl(['get', 'nodes', '-o', 'name']))
        .split('\n')
        .filter(Boolean))
        ok(kubectl(['cordon', n]));
      cluster.apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE } });
      setReady('True', 'KubeletReady', 'kubelet is posting ready status');
      ok(kubectl(['create', 'namespace', NS]));
      cluster.apply(
        {
          apiVersion: 'veloz.io/v1alpha1',
          kind: 'VelozDeployment',
          metadata: { name: 'desk' },
          spec: {
            pairs: 1,
            market: { source: 'sim', symbols: ['BTCUSDT'] },
            execution: { mode: 'sim_engine' },
          },
        },
        NS,
      );
      const cfg = loadOperatorConfig(
        ['--namespaces', NS, '--kubeconfig', cluster.kubeconfig, '--metrics-port', '0'],
        {},
      );
      operator = await startOperator(cfg, pino({ level: 'silent' }));
      await until('the engine pod', () =>
        kubectl(['-n', NS, 'get', 'pod', 'desk-engine-0']).code === 0 ? true : undefined,
      );
      // The scheduler leaves it alone: the kwok node is cordoned and the test's node offers no
      // allocatable CPU or memory.
      ok(
        kubectl(
          ['create', '--raw', `/api/v1/namespaces/${NS}/pods/desk-engine-0/binding`, '-f', '-'],
          JSON.stringify({
            apiVersion: 'v1',
            kind: 'Binding',
            metadata: { name: 'desk-engine-0', namespace: NS },
            target: { apiVersion: 'v1', kind: 'Node', name: NODE },
          }),
        ),
      );
    }, 600_000);

    afterAll(async () => {
      await operator?.stop();
      cluster.down();
    }, 120_000);

    it('reports the pair on a Ready node: NodeReady True, PairLost False', async () => {
      // A fresh heartbeat: the node lifecycle controller marks a node Unknown 40 s after the last.
      setReady('True', 'KubeletReady', 'kubelet is posting ready status');
      const d = await deskWhen('NodeReady=True', (d) => nodeReady(d)?.status === 'True');
      expect(nodeReady(d)).toMatchObject({
        reason: 'NodeReady',
        message: `engine pod desk-engine-0 on node ${NODE}: Ready`,
      });
      expect(pairLost(d)).toMatchObject({ status: 'False', reason: 'NoPairLost' });
    });

    it('node not Ready: the pair NodeNotReady, PairLost True with one Warning Event; Ready again: recovered', async () => {
      setReady('False', 'KubeletNotReady', 'container runtime is down');
      const d = await deskWhen('PairLost=True', (d) => pairLost(d)?.status === 'True');
      expect(nodeReady(d)).toMatchObject({ status: 'False', reason: 'NodeNotReady' });
      expect(nodeReady(d)?.message).toMatch(
        new RegExp(
          `^engine pod desk-engine-0 on node ${NODE}: Ready=False since \\S+ \\(KubeletNotReady: container runtime is down\\)$`,
        ),
      );
      expect(pairLost(d)?.reason).toBe('NodeNotReady');
      expect(pairLost(d)?.message).toContain('pair 0: engine pod desk-engine-0 on node worker-lost');
      expect(pairLost(d)?.message).toContain('docs/runbooks/node-loss.md');
      await until('the Warning Event', () => (events('PairLost').length > 0 ? true : undefined));
      // Further passes (a resync, another node change) write no second Event. The node lifecycle
      // controller turns Ready=False into Unknown once the heartbeats stop (as here, when the test
      // runs slowly): the pair stays lost, under a new message, and the Event keeps the first one.
      ok(kubectl(['-n', NS, 'annotate', 'vzd', 'desk', 'test/poke=1']));
      setReady('Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.');
      await deskWhen('NodeReady Ready=Unknown', (d) => !!nodeReady(d)?.message.includes('Ready=Unknown'));
      await new Promise((r) => setTimeout(r, 3000));
      const warnings = events('PairLost');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ type: 'Warning' });
      // What the contract fixes, not the sentence.
      for (const part of ['pair 0', `node ${NODE}`, 'docs/runbooks/node-loss.md'])
        expect(warnings[0]!.message).toContain(part);
      expect(pairLost(desk())).toMatchObject({ status: 'True', reason: 'NodeNotReady' });

      setReady('True', 'KubeletReady', 'kubelet is posting ready status');
      const back = await deskWhen('PairLost=False', (d) => pairLost(d)?.status === 'False');
      expect(pairLost(back)?.reason).toBe('NoPairLost');
      expect(nodeReady(back)).toMatchObject({ status: 'True', reason: 'NodeReady' });
      await until('the Normal Event', () => (events('PairRecovered').length > 0 ? true : undefined));
      expect(events('PairRecovered')).toEqual([expect.objectContaining({ type: 'Normal' })]);
    });

    it('node deleted: the pair NodeDeleted, PairLost True NodeDeleted', async () => {
      ok(kubectl(['delete', 'node', NODE, '--wait=false']));
      const d = await deskWhen('NodeReady NodeDeleted', (d) => nodeReady(d)?.reason === 'NodeDeleted');
      expect(nodeReady(d)).toMatchObject({
        status: 'False',
        message: `engine pod desk-engine-0 on node ${NODE}: the Node no longer exists`,
      });
      expect(pairLost(d)).toMatchObject({ status: 'True', reason: 'NodeDeleted' });
    });
  },
);
