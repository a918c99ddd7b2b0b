// npm run bench:operator -- on the local cluster: N VelozDeployments through the operator, until
// each has all its children and a current observedGeneration, against a baseline in the same
// run that server-side applies the same rendered objects directly with the same client.
// BENCH_CRS sets N (default 500); BENCH_ROUNDS how many interleaved rounds of the two (default 2:
// the machine is often shared, so each side's best round counts); VELOZ_BENCH_CLUSTER the local
// cluster's name (default veloz-bench); BENCH_OPERATOR_NODE_OPTIONS extra Node.js flags for the
// operator (after the chart's). The operator runs as the image ships it, stripped to JavaScript
// (docs/adr/0026); BENCH_OPERATOR_SOURCES=ts runs the TypeScript sources instead, as in development.
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat as fileStat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { render } from '@veloz/render/render';
import { report } from '@veloz/testing/bench-report';
import { KubeClient } from '../src/kube/client.ts';
import { RESOURCES, resourceFor, type KubernetesObject, type ResourceRef } from '../src/kube/resources.ts';
import { startLocalCluster } from '@veloz/testing/local-cluster';
import { installCrds } from '@veloz/testing/crds';
import { parse } from 'yaml';
import { OperatorProcess } from '@veloz/testing/operator-process';
import { shippedVelozBin } from '@veloz/testing/shipped';
import { Informer } from '../src/runtime/informer.ts';
import { cacheTransform, type CachedDeployment } from '../src/cache-transforms.ts';
import { monitoringApiServed } from '../src/monitoring-discovery.ts';
import { pino } from 'pino';

const N = Number(process.env['BENCH_CRS'] ?? 500);
const CONCURRENCY = 4;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);
/** Issue 20's goals: the operator's time at most 1.15 × direct SSA, its peak RSS under 150 MB. */
const GOAL_RATIO = 1.15;
const GOAL_RSS_MB = 150;
const SOURCES = process.env['BENCH_OPERATOR_SOURCES'] ?? 'js';
if (SOURCES !== 'js' && SOURCES !== 'ts')
  throw new Error(`BENCH_OPERATOR_SOURCES must be js (as shipped) or ts (the sources), not "${SOURCES}"`);
const bin = SOURCES === 'js' ? shippedVelozBin() : undefined;
const LOAD_AT_START = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');

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

/** Kinds render() makes for one of the CRs, and how many of each: every child the operator makes. */
function children(served: boolean): Array<[ResourceRef, number]> {
  const sample = { ...cr('sample', 'bench'), metadata: { name: 'sample', namespace: 'bench', uid: 'u' } };
  const counts = new Map<ResourceRef, number>();
  for (const o of render(sample as never, {
    defaultImage: 'veloz:bench',
    apiKey: 'k',
    engineTokens: { trading: 't', admin: 'a', backup: 'b' },
    monitoringApiServed: served,
  })) {
    const r = resourceFor(o.apiVersion, o.kind);
    counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  return [...counts];
}

async function childrenComplete(c: KubeClient, ns: string, expected: Array<[ResourceRef, number]>) {
  for (const [r, per] of expected) {
    const { items } = await c.list(r, ns, 'app.kubernetes.io/managed-by=veloz-operator');
    if (items.length < per * N) return false;
  }
  return true;
}

/** The operator's write requests by `verb kind`, from its veloz_operator_api_requests_total. */
function writesByKind(metrics: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of metrics.split('\n')) {
    const m = /^veloz_operator_api_requests_total\{(.*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (!['apply', 'patch', 'create', 'update', 'delete'].includes(labels['verb'] ?? '')) continue;
    const k = `${labels['verb']} ${labels['kind']}`;
    out[k] = (out[k] ?? 0) + Number(m[2]);
  }
  return out;
}

/** The operator's V8 heap spaces and external memory at the end, in MB (from its process metrics). */
function memoryAtEnd(metrics: string): Record<string, number> {
  const out: Record<string, number> = {};
  const mb = (v: string) => Math.round((Number(v) / 1048576) * 10) / 10;
  for (const line of metrics.split('\n')) {
    const space = /^veloz_operator_process_nodejs_heap_space_size_total_bytes\{space="(\w+)"\} (\S+)$/.exec(
      line,
    );
    if (space) out[`heap_${space[1]}`] = mb(space[2]!);
    const ext = /^veloz_operator_process_nodejs_external_memory_bytes (\S+)$/.exec(line);
    if (ext) out['external'] = mb(ext[1]!);
    const rss = /^veloz_operator_process_process_resident_memory_bytes (\S+)$/.exec(line);
    if (rss) out['rss'] = mb(rss[1]!);
  }
  return out;
}

/** Each phase gets a fresh cluster, so neither pays for the other's leftover controller work. */
async function inFreshCluster<T>(fn: (client: KubeClient, kubeconfig: string) => Promise<T>): Promise<T> {
  const cluster = startLocalCluster(process.env['VELOZ_BENCH_CLUSTER'] || 'veloz-bench');
  const client = KubeClient.load(cluster.kubeconfig);
  try {
    await installCrds(client);
    return await fn(client, cluster.kubeconfig);
  } finally {
    client.close();
    cluster.down();
  }
}

// Baseline: create each CR, render it, and server-side apply its objects directly. The local
// cluster serves the monitoring API (ServiceMonitor, PrometheusRule), so the operator renders
// those too: the baseline asks the same question.
const directRound = () =>
  inFreshCluster(async (client) => {
    await namespace(client, 'bench-direct');
    const served = await monitoringApiServed(client);
    let writes = 0;
    const t0 = performance.now();
    await pool([...Array(N).keys()], async (i) => {
      const created = await client.apply<KubernetesObject>(cr(`desk-${i}`, 'bench-direct'));
      writes++;
      for (const obj of render(created as never, {
        defaultImage: 'veloz:bench',
        apiKey: randomBytes(32).toString('hex'),
        engineTokens: {
          trading: randomBytes(32).toString('hex'),
          admin: randomBytes(32).toString('hex'),
          backup: randomBytes(32).toString('hex'),
        },
        monitoringApiServed: served,
      })) {
        await client.apply(obj as unknown as KubernetesObject);
        writes++;
      }
    });
    return { seconds: (performance.now() - t0) / 1000, writes };
  });

// The operator runs with the Node.js flags the chart gives it (values.yaml nodeOptions).
const chartValues = parse(
  await readFile(new URL('../../charts/veloz-operator/values.yaml', import.meta.url), 'utf8'),
) as { nodeOptions?: string };
// BENCH_OPERATOR_NODE_OPTIONS adds flags, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it.
let nodeOptions = [chartValues.nodeOptions, process.env['BENCH_OPERATOR_NODE_OPTIONS']]
  .filter(Boolean)
  .join(' ');

// BENCH_HEAP_SNAPSHOT_DIR: the operator writes a heap snapshot there at the end of each round
// (after its peak RSS is read: writing one takes about as much memory again).
const HEAP_SNAPSHOT_DIR = process.env['BENCH_HEAP_SNAPSHOT_DIR'];
if (HEAP_SNAPSHOT_DIR)
  nodeOptions = `${nodeOptions} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${HEAP_SNAPSHOT_DIR}`.trim();

async function heapSnapshot(proc: OperatorProcess): Promise<void> {
  const dir = HEAP_SNAPSHOT_DIR!;
  const before = new Set(await readdir(dir));
  proc.child.kill('SIGUSR2');
  // Node writes Heap.<date>.<pid>...heapsnapshot; done once its size stops changing.
  let last = -1;
  for (;;) {
    await new Promise((r) => setTimeout(r, 2000));
    const file = (await readdir(dir)).find((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    if (!file) continue;
    const size = (await fileStat(join(dir, file))).size;
    if (size > 0 && size === last) return;
    last = size;
  }
}

// The operator: create the CRs, wait for every child and a current observedGeneration.
const operatorRound = () =>
  inFreshCluster(async (client, kubeconfig) => {
    await namespace(client, 'bench-operator');
    const expected = children(await monitoringApiServed(client));
    const proc = await OperatorProcess.start({
      kubeconfig,
      namespaces: ['bench-operator'],
      args: ['--workers', String(CONCURRENCY)],
      env: { NODE_OPTIONS: nodeOptions },
      ...(bin ? { bin } : {}),
    });
    try {
      // Progress is followed with one watch, not by listing every CR over and over: a poll of
      // 500 objects each 250 ms loads the very API server being measured, and only in this phase.
      let allCurrent: () => void = () => undefined;
      const done = new Promise<void>((resolve) => (allCurrent = resolve));
      const seen = new Set<string>();
      const watcher = new Informer<CachedDeployment>({
        client,
        resource: RESOURCES.velozDeployment,
        namespace: 'bench-operator',
        log: pino({ level: 'silent' }),
        transform: cacheTransform(RESOURCES.velozDeployment),
        onChange: (d) => {
          const name = d.metadata.name ?? '';
          if (seen.has(name) || d.status?.observedGeneration !== d.metadata?.generation) return;
          seen.add(name);
          if (seen.size === N) allCurrent();
        },
      });
      watcher.start();
      const t1 = performance.now();
      try {
        await pool(
          [...Array(N).keys()],
          async (i) => void (await client.apply(cr(`desk-${i}`, 'bench-operator'))),
        );
        await done;
      } finally {
        await watcher.close();
      }
      // The operator writes status after the children of the same pass: they exist by now.
      while (!(await childrenComplete(client, 'bench-operator', expected)))
        await new Promise((r) => setTimeout(r, 250));
      const seconds = (performance.now() - t1) / 1000;
      const status = await readFile(`/proc/${proc.child.pid}/status`, 'utf8');
      // utime + stime (fields 14 and 15 of /proc/PID/stat), in clock ticks of 1/100 s.
      const stat = (await readFile(`/proc/${proc.child.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
      const metrics = await proc.metrics();
      if (HEAP_SNAPSHOT_DIR) await heapSnapshot(proc);
      return {
        seconds,
        cpuSeconds: (Number(stat[11]) + Number(stat[12])) / 100,
        peakRssMb: Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024,
        writes: await proc.writes(),
        writesByKind: writesByKind(metrics),
        memoryAtEndMb: memoryAtEnd(metrics),
        reconciles: await proc.metric('veloz_operator_reconcile_total', { kind: 'VelozDeployment' }),
      };
    } finally {
      await proc.kill('SIGTERM');
    }
  });

const directs: Array<Awaited<ReturnType<typeof directRound>>> = [];
const ops: Array<Awaited<ReturnType<typeof operatorRound>>> = [];
for (let r = 0; r < ROUNDS; r++) {
  directs.push(await directRound());
  ops.push(await operatorRound());
}
const direct = directs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
const op = ops.reduce((a, b) => (b.seconds < a.seconds ? b : a));
const peakRssMb = Math.max(...ops.map((o) => o.peakRssMb));
const ratio = op.seconds / direct.seconds;
console.log(`load average at start: ${LOAD_AT_START}`);
console.log(
  `goal: operator / direct time <= ${GOAL_RATIO} (${ratio.toFixed(2)}, ${ratio <= GOAL_RATIO ? 'met' : 'NOT met'}), ` +
    `peak RSS < ${GOAL_RSS_MB} MB (${peakRssMb.toFixed(0)} MB, ${peakRssMb < GOAL_RSS_MB ? 'met' : 'NOT met'})`,
);

report(
  'operator',
  directs.flatMap((d, r) => [
    {
      run: `direct server-side apply of rendered objects (${CONCURRENCY} in parallel)`,
      round: r + 1,
      CRs: N,
      seconds: d.seconds.toFixed(1),
      'writes/CR': (d.writes / N).toFixed(1),
      'peak RSS MB': '',
    },
    {
      run: `operator (${CONCURRENCY} workers, ${SOURCES === 'js' ? 'stripped JS as shipped' : 'TypeScript sources'}), until children + observedGeneration`,
      round: r + 1,
      CRs: N,
      seconds: ops[r]!.seconds.toFixed(1),
      'writes/CR': (ops[r]!.writes / N).toFixed(1),
      'peak RSS MB': ops[r]!.peakRssMb.toFixed(0),
    },
  ]),
  {
    crs: N,
    rounds: ROUNDS,
    operatorSources: SOURCES,
    loadAverageAtStart: LOAD_AT_START,
    goals: { operatorVsDirectTime: GOAL_RATIO, peakRssMb: GOAL_RSS_MB },
    directSeconds: directs.map((d) => d.seconds),
    directWritesPerCr: direct.writes / N,
    operatorSeconds: ops.map((o) => o.seconds),
    operatorCpuSeconds: ops.map((o) => o.cpuSeconds),
    operatorPeakRssMb: ops.map((o) => o.peakRssMb),
    operatorMemoryAtEndMb: op.memoryAtEndMb,
    operatorWrites: op.writes,
    operatorWritesByKind: op.writesByKind,
    operatorReconciles: op.reconciles,
  },
  {
    operator_vs_direct_time: ratio,
    operator_peak_rss_mb_vs_150_goal: peakRssMb / GOAL_RSS_MB,
    operator_writes_per_cr: op.writes / N,
    direct_writes_per_cr: direct.writes / N,
    operator_reconciles_per_cr: op.reconciles / N,
  },
);
