// A desk's engines over several nodes: spread by the rendered topology constraint, and a
// `kubectl drain` of their nodes stops at the PodDisruptionBudget (one engine disrupted at a
// time). It runs on any cluster with two schedulable nodes (kind's workers, the local cluster's
// kwok nodes) and is skipped, saying why, on one with fewer. Every node this case cordons is
// uncordoned again, whatever happens.
import { describe, expect, it } from 'vitest';
import { names, selectorLabels } from '@veloz/api/names';
import { RESOURCES, type KubernetesObject } from '@veloz/operator/kube/resources';
import type { KubeClient } from '@veloz/operator/kube/client';
import { eventually } from './support/cluster.ts';
import { kubectl } from './support/kubectl.ts';
import { operatorPerTest } from './support/operator-per-test.ts';
import { sample } from './support/samples.ts';

const q = names('quickstart');
const ENGINES = Object.entries(selectorLabels('quickstart', 'engine'))
  .map(([k, v]) => `${k}=${v}`)
  .join(',');

type Obj = KubernetesObject & { spec: Record<string, unknown>; status?: Record<string, unknown> };
interface Node {
  metadata: { name: string };
  spec: { unschedulable?: boolean; taints?: Array<{ effect: string }> };
  status: { conditions: Array<{ type: string; status: string }> };
}

let c: KubeClient;
let ns: { name: string; remove: () => Promise<void> };
operatorPerTest((t) => ({ c, ns } = t));

/** Ready nodes that take ordinary pods (no NoSchedule/NoExecute taint, not cordoned). */
function schedulableNodes(): string[] {
  const res = kubectl(['get', 'nodes', '-o', 'json']);
  if (res.status !== 0) throw new Error(`kubectl get nodes: ${res.out}`);
  const nodes = (JSON.parse(res.out) as { items: Node[] }).items;
  return nodes
    .filter(
      (n) =>
        !n.spec.unschedulable &&
        !(n.spec.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute') &&
        n.status.conditions.some((x) => x.type === 'Ready' && x.status === 'True'),
    )
    .map((n) => n.metadata.name);
}

const enginePod = (i: number) => c.find<Obj>(RESOURCES.pod, ns.name, q.enginePod(i));

async function readyPairs(pairs: number): Promise<void> {
  await eventually(
    `${pairs} pairs ready`,
    async () => {
      const d = await c.find<Obj>(RESOURCES.velozDeployment, ns.name, 'quickstart');
      return (
        d?.status?.['observedGeneration'] === d?.metadata?.generation && d?.status?.['readyPairs'] === pairs
      );
    },
    300_000,
  );
}

describe('engines over nodes', () => {
  it('spreads a desk’s engines over nodes, and kubectl drain respects the PodDisruptionBudget', async (ctx) => {
    const nodes = schedulableNodes();
    if (nodes.length < 2) {
      const reason = `needs two schedulable nodes, the cluster has ${nodes.length} (${nodes.join(', ')})`;
      console.warn(`skipped "kubectl drain respects the PodDisruptionBudget": ${reason}`);
      ctx.skip(reason);
    }
    const d = await sample<Obj>('VelozDeployment', ns.name);
    await c.apply({ ...d, spec: { ...d.spec, pairs: 2 } });
    await readyPairs(2);
    const on = async (i: number) => (await enginePod(i))!.spec['nodeName'] as string;
    const [node0, node1] = [await on(0), await on(1)];
    // ScheduleAnyway only prefers the spread; with two empty nodes the scheduler takes it.
    expect(node0).not.toBe(node1);

    const cordoned: string[] = [];
    try {
      // Nowhere to go: the evicted engine stays Pending, so the PDB has no disruption left.
      for (const n of nodes) {
        expect(kubectl(['cordon', n]).status).toBe(0);
        cordoned.push(n);
      }
      const drain = (node: string, timeout: string) =>
        kubectl([
          'drain',
          node,
          `--pod-selector=${ENGINES}`,
          '--ignore-daemonsets',
          '--delete-emptydir-data',
          `--timeout=${timeout}`,
        ]);
      const first = drain(node0, '180s');
      expect(first.status, first.out).toBe(0);
      await eventually('engine-0 evicted and pending', async () => {
        const p = await enginePod(0);
        return p && !p.spec['nodeName'] && p.status?.['phase'] === 'Pending';
      });
      const before = (await enginePod(1))!.metadata!.uid;
      const second = drain(node1, '20s');
      expect(second.status).not.toBe(0);
      expect(second.out).toContain("Cannot evict pod as it would violate the pod's disruption budget");
      expect((await enginePod(1))!.metadata!.uid).toBe(before);
    } finally {
      for (const n of cordoned) expect(kubectl(['uncordon', n]).status).toBe(0);
    }
    await readyPairs(2);
  });
});
