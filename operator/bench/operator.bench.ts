// npm run bench:operator -- on the local cluster: N VelozDeployments through the operator, until
// each has all its children and a current observedGeneration, against a baseline in the same
// run that server-side applies the same rendered objects directly with the same client.
// BENCH_CRS sets N (default 500).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { render } from '@veloz/cdk8s/src/render.ts';
import { report } from '@veloz/engine/bench/report.ts';
import { KubeClient } from '../src/kube/client.ts';
import { RESOURCES, type KubernetesObject } from '../src/kube/resources.ts';
import { startLocalCluster } from '../../scripts/lib/cluster.ts';
import { installCrds } from '../../scripts/lib/crds.ts';
import { OperatorProcess } from '../../test-e2e/support/operator.ts';

const N = Number(process.env['BENCH_CRS'] ?? 500);
const CONCURRENCY = 4;

function cr(name: string, namespace: string): KubernetesObject {
  return {
    apiVersion: 'veloz.io/v1alpha1',
    kind: 'VelozDeployment',
    metadata: { name, namespace },
    // Backups suspended: 500 CronJobs firing mid-run would measure the cluster's Job churn.
    spec: {
      pairs: 1,
      market: { source: 'sim', symbols: ['BTCUSDT'] },
      execution: { mode: 'sim_engine' },
      backup: { suspend: true },
    },
  };
}

async function pool<T>(items: T[], fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

async function namespace(c: KubeClient, name: string): Promise<void> {
  await c.create(RESOURCES.namespace, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

/** Kinds render() makes for one pair with default settings, and how many of each per CR. */
const CHILDREN: Array<[typeof RESOURCES.secret, number]> = [
  [RESOURCES.secret, 1],
  [RESOURCES.configMap, 1],
  [RESOURCES.serviceAccount, 1],
  [RESOURCES.service, 2],
  [RESOURCES.statefulSet, 2],
  [RESOURCES.pdb, 1],
  [RESOURCES.networkPolicy, 1],
  [RESOURCES.cronJob, 1],
];

async function childrenComplete(c: KubeClient, ns: string): Promise<boolean> {
  for (const [r, per] of CHILDREN) {
    const { items } = await c.list(r, ns, 'app.kubernetes.io/managed-by=veloz-operator');
    if (items.length < per * N) return false;
  }
  return true;
}

/** Each phase gets a fresh cluster, so neither pays for the other's leftover controller work. */
async function inFreshCluster<T>(fn: (client: KubeClient, kubeconfig: string) => Promise<T>): Promise<T> {
  const cluster = startLocalCluster('veloz-bench');
  const client = KubeClient.load(cluster.kubeconfig);
  try {
    await installCrds(client);
    return await fn(client, cluster.kubeconfig);
  } finally {
    client.close();
    cluster.down();
  }
}

// Baseline: create each CR, render it, and server-side apply its objects directly.
const direct = await inFreshCluster(async (client) => {
  await namespace(client, 'bench-direct');
  const t0 = performance.now();
  await pool([...Array(N).keys()], async (i) => {
    const created = await client.apply<KubernetesObject>(cr(`desk-${i}`, 'bench-direct'));
    for (const obj of render(created as never, {
      defaultImage: 'veloz:bench',
      apiKey: randomBytes(32).toString('hex'),
      monitoringApiServed: false,
    })) {
      await client.apply(obj as unknown as KubernetesObject);
    }
  });
  return (performance.now() - t0) / 1000;
});

// The operator: create the CRs, wait for every child and a current observedGeneration.
const op = await inFreshCluster(async (client, kubeconfig) => {
  await namespace(client, 'bench-operator');
  const proc = await OperatorProcess.start({
    kubeconfig,
    namespaces: ['bench-operator'],
    args: ['--workers', String(CONCURRENCY)],
  });
  try {
    const t1 = performance.now();
    await pool(
      [...Array(N).keys()],
      async (i) => void (await client.apply(cr(`desk-${i}`, 'bench-operator'))),
    );
    for (;;) {
      const { items } = await client.list<KubernetesObject & { status?: { observedGeneration?: number } }>(
        RESOURCES.velozDeployment,
        'bench-operator',
      );
      const current = items.filter((d) => d.status?.observedGeneration === d.metadata?.generation).length;
      if (current === N && (await childrenComplete(client, 'bench-operator'))) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const seconds = (performance.now() - t1) / 1000;
    const status = await readFile(`/proc/${proc.child.pid}/status`, 'utf8');
    return {
      seconds,
      peakRssMb: Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024,
      writes: await proc.writes(),
      reconciles: await proc.metric('veloz_operator_reconcile_total', { kind: 'VelozDeployment' }),
    };
  } finally {
    await proc.kill('SIGTERM');
  }
});

report(
  'operator',
  [
    {
      run: `direct server-side apply of rendered objects (${CONCURRENCY} in parallel)`,
      CRs: N,
      seconds: direct.toFixed(1),
    },
    {
      run: `operator (${CONCURRENCY} workers), until children + observedGeneration`,
      CRs: N,
      seconds: op.seconds.toFixed(1),
    },
  ],
  {
    crs: N,
    directSeconds: direct,
    operatorSeconds: op.seconds,
    operatorPeakRssMb: op.peakRssMb,
    operatorWrites: op.writes,
    operatorReconciles: op.reconciles,
  },
  {
    operator_vs_direct_time: op.seconds / direct,
    operator_peak_rss_mb_vs_200_goal: op.peakRssMb / 200,
    operator_writes_per_cr: op.writes / N,
    operator_reconciles_per_cr: op.reconciles / N,
  },
);
