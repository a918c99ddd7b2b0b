// The operator under failure: killed mid-reconcile, the API server restarted under it, two
// replicas with leader election, and a steady state that writes nothing.
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { KubeClient } from '@veloz/operator/kube/client';
import { RESOURCES, type KubernetesObject } from '@veloz/operator/kube/resources';
import { restartLocalCluster } from '@veloz/testing/local-cluster';
import { client, createNamespace, eventually, kubeconfig, nodeOf } from './support/cluster.ts';
import { IMAGE_ALIASES } from './support/images.ts';
import { sample } from './support/samples.ts';
import { OperatorProcess } from '@veloz/testing/operator-process';
import { names as objectNames } from '@veloz/api/names';

type Obj = KubernetesObject & { spec: Record<string, unknown>; status?: Record<string, unknown> };

let c: KubeClient;
let ns: { name: string; remove: () => Promise<void> };
const operators: OperatorProcess[] = [];

beforeEach(async () => {
  c = client();
  ns = await createNamespace(c, 'e2e-res');
});

afterEach(async () => {
  for (const op of operators.splice(0)) {
    await op.kill('SIGKILL');
    expect(op.unexpectedErrors()).toEqual([]);
  }
  await ns.remove();
  c.close();
});

async function deployment(name: string, pairs = 1): Promise<Obj> {
  const d = await sample<Obj>('VelozDeployment', ns.name);
  return { ...d, metadata: { name, namespace: ns.name }, spec: { ...d.spec, pairs } };
}

async function allReady(names: string[]): Promise<void> {
  await eventually(
    `${names.length} deployments Ready with a current observedGeneration`,
    async () => {
      for (const n of names) {
        const d = await c.find<Obj>(RESOURCES.velozDeployment, ns.name, n);
        const ready = (
          d?.status?.['conditions'] as Array<{ type: string; status: string }> | undefined
        )?.find((x) => x.type === 'Ready');
        if (d?.status?.['observedGeneration'] !== d?.metadata?.generation || ready?.status !== 'True')
          return false;
      }
      return true;
    },
    // Real pods (kind) on a loaded 2-core machine take minutes, fake ones seconds.
    300_000,
  );
}

/** Every pair of each desk has its engine's WAL position in the status. */
async function walReported(names: string[]): Promise<void> {
  await eventually(
    `the engines' first WAL reports in the status of ${names.join(', ')}`,
    async () => {
      for (const n of names) {
        const d = await c.find<Obj>(RESOURCES.velozDeployment, ns.name, n);
        const pairs = d?.status?.['pairs'] as Array<{ walEntries?: number }> | undefined;
        if (!pairs?.length || pairs.length !== d?.spec['pairs']) return false;
        if (!pairs.every((p) => typeof p.walEntries === 'number')) return false;
      }
      return true;
    },
    // The operator asks every 30 s, sooner after its start, and backs off from engines that failed.
    180_000,
  );
}

const start = async (extra: Partial<Parameters<typeof OperatorProcess.start>[0]> = {}) => {
  const op = await OperatorProcess.start({ kubeconfig: kubeconfig(), namespaces: [ns.name], ...extra });
  operators.push(op);
  return op;
};

/** The operator's leader election Lease (--lease-name's default) and its retry period. */
const LEASE = 'veloz-operator';
const RETRY_PERIOD_MS = 2_000;

interface Lease {
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds: number;
    acquireTime: string;
    renewTime: string;
    leaseTransitions?: number;
  };
}

/** Milliseconds of a MicroTime (`…T12:00:00.123456Z`), which Date.parse does not promise to read. */
const microTime = (t: string): number => Date.parse(t.replace(/(\.\d{3})\d*Z$/, '$1Z'));

// Desk i changes in rounds i and i + 5: alternating two references changes its image each time,
// and the last one tells which round it saw last.
const roundImage = (round: number): string => IMAGE_ALIASES[round % 2]!;

describe('operator resilience on a real API server', () => {
  it('converges although it is killed with SIGKILL mid-reconcile 10 times', async () => {
    const names = Array.from({ length: 5 }, (_, i) => `desk-${i}`);
    for (const n of names) await c.apply(await deployment(n, 2));
    for (let round = 0; round < 10; round++) {
      const op = await start();
      // Change something each round so every life has work in flight when it dies.
      await c.mergePatch(RESOURCES.velozDeployment, ns.name, names[round % names.length]!, {
        spec: { image: roundImage(round) },
      });
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 400));
      await op.kill('SIGKILL');
      operators.splice(operators.indexOf(op), 1);
    }
    await start();
    await allReady(names);
    for (const [i, n] of names.entries()) {
      const sts = await c.get<Obj>(RESOURCES.statefulSet, ns.name, objectNames(n).engine);
      const last = [...Array(10).keys()].filter((r) => r % names.length === i).at(-1);
      expect(JSON.stringify(sts.spec['template'])).toContain(`"${roundImage(last!)}"`);
    }
  });

  it('recovers its watches when the API server restarts under it', async () => {
    const local = inject('localCluster');
    if (!local) {
      console.warn('skipped: the suite runs against an external cluster it cannot restart');
      return;
    }
    const op = await start();
    await c.apply(await deployment('before'));
    await allReady(['before']);
    restartLocalCluster(local);
    c.close();
    c = client();
    await c.apply(await deployment('after'));
    await allReady(['before', 'after']);
    await c.mergePatch(RESOURCES.velozDeployment, ns.name, 'before', { spec: { pairs: 2 } });
    await allReady(['before', 'after']);
    expect(await op.metric('veloz_operator_informer_restarts_total')).toBeGreaterThan(0);
  });

  it('with leader election exactly one replica reconciles, and a standby takes over after SIGKILL of the leader', async () => {
    const a = await start({ leaderElect: true, leaseNamespace: ns.name, identity: 'replica-a' });
    const b = await start({ leaderElect: true, leaseNamespace: ns.name, identity: 'replica-b' });
    const leader = await eventually('a leader', async () => {
      const [la, lb] = [await a.metric('veloz_operator_leader'), await b.metric('veloz_operator_leader')];
      return la + lb === 1 && (la === 1 ? a : b);
    });
    const standby = leader === a ? b : a;
    await c.apply(await deployment('led'));
    await allReady(['led']);
    expect(await standby.writes()).toBe(0);
    expect(await standby.metric('veloz_operator_reconcile_total')).toBe(0);
    const lease = () => c.get<Lease>(RESOURCES.lease, ns.name, LEASE);
    const held = await lease();
    await leader.kill('SIGKILL');
    operators.splice(operators.indexOf(leader), 1);
    // The dead leader's last renewal as the Lease recorded it: one in flight at the kill may still
    // land, so the Lease is read until the standby holds it.
    let last = held;
    await eventually(
      'the standby to lead',
      async () => {
        const l = await lease();
        if (l.spec.holderIdentity === held.spec.holderIdentity) last = l;
        return (await standby.metric('veloz_operator_leader')) === 1;
      },
      60_000,
      100,
    );
    const taken = await lease();
    expect(taken.spec.holderIdentity).toBe(standby === a ? 'replica-a' : 'replica-b');
    expect(taken.spec.leaseTransitions).toBe((last.spec.leaseTransitions ?? 0) + 1);
    // Failover as the Lease's own timestamps show it (both replicas run on this host's clock), not
    // as the time the test waited: the standby took the Lease once the dead leader's lease had
    // expired (less one retry period: its read of the last renewal may have started before that
    // renewal did), and on that expiry, not a later one.
    const duration = last.spec.leaseDurationSeconds * 1000;
    const sinceRenewal = microTime(taken.spec.acquireTime) - microTime(last.spec.renewTime);
    expect(sinceRenewal).toBeGreaterThanOrEqual(duration - RETRY_PERIOD_MS);
    expect(sinceRenewal).toBeLessThan(2 * duration);
    await c.mergePatch(RESOURCES.velozDeployment, ns.name, 'led', { spec: { pairs: 2 } });
    await allReady(['led']);
  });

  it('makes no write requests in a steady state (60 s)', async () => {
    const op = await start();
    for (const n of ['calm-0', 'calm-1']) {
      const d = await deployment(n);
      // A scheduled backup (every 5 minutes by default) is a real change: its result goes into
      // the status. Steady means nothing happens, so none is due during the count.
      await c.apply({ ...d, spec: { ...d.spec, backup: { suspend: true } } });
    }
    await allReady(['calm-0', 'calm-1']);
    // Real engines (kind) answer the operator's WAL reads, and the first answers go into the
    // status some seconds after Ready: part of starting, not of the steady state. Engines on
    // kwok's fake nodes never answer.
    if (!(await nodeOf(c, ns.name, objectNames('calm-0').enginePod(0)))?.fake)
      await walReported(['calm-0', 'calm-1']);
    // Let the last status and events land, then count.
    await new Promise((r) => setTimeout(r, 3_000));
    const before = await op.writes();
    await new Promise((r) => setTimeout(r, 60_000));
    expect(await op.writes()).toBe(before);
  });
});
