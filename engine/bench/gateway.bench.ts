// npm run bench:gateway -- POST /api/orders through the gateway versus straight to the engine,
// in the same run against the same engine process (WAL sync on), with the same load generator,
// concurrency and order stream. Both sides are warmed up first; rounds then alternate in ABBA
// order, so a drift of the engine (a growing WAL, more open orders) or of the machine weighs on
// both sides alike. The gateway runs (and follows the engine's event stream) during the direct
// rounds too.
//
// Besides throughput and latency, the CPU time of each process is counted (Linux /proc): the
// load generator, gateway and engine share this machine's cores, so what the gateway spends
// comes out of what the engine could have had. CPU seconds per 1000 orders show that cost
// directly, whatever else the machine is doing.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVeloz } from '@veloz/testing/gateway';
import { freePort } from '@veloz/testing/engine-process';
import { restingOrder } from '@veloz/testing/kill-under-load';
import { load, type LoadResult } from './load.ts';
import { fmt, report, seconds } from '@veloz/testing/bench-report';

const DURATION = seconds('BENCH_SECONDS', 10) * 1000;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 10);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 64);
const WARMUP = 1000;
const KEY = 'bench-key-0123456789abcdef';
// BENCH_PROFILE=DIR writes a V8 CPU profile of the engine and of the gateway into DIR.
const PROFILE = process.env['BENCH_PROFILE'];
const nodeArgs = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : [];
let seq = 0;
// Far from the market so orders rest: the ack path, not matching, is measured.
const order = () => {
  const i = seq++;
  return restingOrder(`gb-${i}`, i);
};

function merge(rs: LoadResult[]): LoadResult {
  const requests = rs.reduce((s, r) => s + r.requests, 0);
  const statuses: Record<number, number> = {};
  for (const r of rs)
    for (const [k, v] of Object.entries(r.statuses)) statuses[Number(k)] = (statuses[Number(k)] ?? 0) + v;
  return {
    requests,
    errors: rs.reduce((s, r) => s + r.errors, 0),
    perSecond: rs.reduce((s, r) => s + r.perSecond, 0) / rs.length,
    // Weighted by requests; the exact percentile of the union would need every sample.
    p50ms: rs.reduce((s, r) => s + r.p50ms * r.requests, 0) / requests,
    p99ms: rs.reduce((s, r) => s + r.p99ms * r.requests, 0) / requests,
    statuses,
  };
}

/** CPU seconds (user + system, all threads) a process has used so far. Linux only. */
function cpuOf(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    // The fields after the command name, which is in parentheses and may contain spaces.
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

interface Cpu {
  client: number;
  engine: number;
  gateway: number;
}
const PROCS = ['client', 'engine', 'gateway'] as const;

const dir = await mkdtemp(join(tmpdir(), 'veloz-bench-gateway-'));
const enginePort = await freePort();
const gatewayPort = await freePort();
const engineUrl = `http://127.0.0.1:${enginePort}`;
const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
const engine = await startVeloz(
  ['engine', '--port', String(enginePort), '--host', '127.0.0.1'],
  {
    VELOZ_WAL_DIR: dir,
    VELOZ_WAL_SYNC: 'true',
    VELOZ_ORDER_RATE_LIMIT: '1000000',
    VELOZ_RISK_MAX_OPEN_ORDERS: '1000000',
    // Orders placed through the API are kept whole for the idempotency window (ADR 10); a bench
    // placing hundreds of thousands would measure checkpoints of them instead of the order path.
    VELOZ_IDEMPOTENCY_WINDOW: '1',
    VELOZ_ORDER_HISTORY: '0',
  },
  `${engineUrl}/ready`,
  [200],
  20_000,
  nodeArgs,
);
const gateway = await startVeloz(
  [
    'gateway',
    '--port',
    String(gatewayPort),
    '--host',
    '127.0.0.1',
    '--engine-url',
    engineUrl,
    '--rate-limit',
    '1000000',
  ],
  { VELOZ_API_KEY: KEY },
  `${gatewayUrl}/ready`,
  [200],
  20_000,
  nodeArgs,
);

const cpuNow = (): Cpu => {
  const u = process.cpuUsage();
  return {
    client: (u.user + u.system) / 1e6,
    engine: cpuOf(engine.child.pid),
    gateway: cpuOf(gateway.child.pid),
  };
};
const sides = {
  direct: { url: `${engineUrl}/api/orders`, headers: {}, rounds: [] as LoadResult[], cpu: cpuZero() },
  gateway: {
    url: `${gatewayUrl}/api/orders`,
    headers: { 'x-api-key': KEY },
    rounds: [] as LoadResult[],
    cpu: cpuZero(),
  },
};
function cpuZero(): Cpu {
  return { client: 0, engine: 0, gateway: 0 };
}
async function round(side: keyof typeof sides, ms: number): Promise<void> {
  const s = sides[side];
  const before = cpuNow();
  s.rounds.push(await load(s.url, order, CONCURRENCY, ms, s.headers));
  const after = cpuNow();
  for (const k of PROCS) s.cpu[k] += after[k] - before[k];
}

try {
  await load(sides.direct.url, order, CONCURRENCY, WARMUP);
  await load(sides.gateway.url, order, CONCURRENCY, WARMUP, sides.gateway.headers);
  for (let r = 0; r < ROUNDS; r++) {
    // ABBA: direct, gateway, gateway, direct, ...
    const first = r % 2 === 0 ? 'direct' : 'gateway';
    await round(first, DURATION / ROUNDS);
    await round(first === 'direct' ? 'gateway' : 'direct', DURATION / ROUNDS);
  }
} finally {
  await gateway.stop();
  await engine.stop();
  await rm(dir, { recursive: true, force: true });
}
const d = merge(sides.direct.rounds);
const g = merge(sides.gateway.rounds);
for (const [name, r] of [
  ['engine', d],
  ['gateway', g],
] as const) {
  if (r.errors > 0 || Object.keys(r.statuses).some((s) => s !== '201'))
    throw new Error(`${name} answered unexpectedly: ${JSON.stringify(r.statuses)}, ${r.errors} errors`);
}
/** CPU seconds per 1000 orders of each process. */
const perK = (c: Cpu, r: LoadResult): Cpu => ({
  client: (c.client / r.requests) * 1000,
  engine: (c.engine / r.requests) * 1000,
  gateway: (c.gateway / r.requests) * 1000,
});
const cd = perK(sides.direct.cpu, d);
const cg = perK(sides.gateway.cpu, g);
const total = (c: Cpu) => c.client + c.engine + c.gateway;
const roundRatios = sides.gateway.rounds.map((r, i) => r.perSecond / sides.direct.rounds[i]!.perSecond);
const row = (target: string, r: LoadResult, c: Cpu) => ({
  target,
  concurrency: CONCURRENCY,
  'req/s': fmt(r.perSecond),
  'p50 ms': r.p50ms.toFixed(2),
  'p99 ms': r.p99ms.toFixed(2),
  'CPU s/1000 orders: engine': c.engine.toFixed(3),
  gateway: c.gateway.toFixed(3),
  'load gen': c.client.toFixed(3),
  all: total(c).toFixed(3),
});
const throughputRatio = g.perSecond / d.perSecond;
const cpuRatio = total(cd) / total(cg);
const load3 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(
  [
    `Machine: ${availableParallelism()} cores, load average ${load3} at the end (other work on the machine competes too).`,
    `Throughput ratio per round (gateway/direct): ${roundRatios.map((x) => x.toFixed(2)).join(' ')}.`,
    `CPU per order: the gateway spends ${((cg.gateway / cd.engine) * 100).toFixed(0)}% of what the engine spends on a direct order. Load generator,`,
    `gateway and engine share the cores here, so that CPU is taken from the engine and the load generator:`,
    `if only CPU counted, the throughput ratio would be ${cpuRatio.toFixed(2)} (CPU per order of all three processes, direct`,
    `/ through the gateway). With CPU of its own (its own container in a cluster), the gateway changes the`,
    `engine's CPU per order from ${cd.engine.toFixed(3)} to ${cg.engine.toFixed(3)} s per 1000 orders and adds the latency shown.`,
    `The direct row's "gateway" CPU is the gateway following the engine's event stream.`,
    '',
  ].join('\n'),
);
report(
  'gateway',
  [row('engine POST /api/orders (direct, sync on)', d, cd), row('gateway -> engine POST /api/orders', g, cg)],
  {
    direct: { ...d, cpuSecondsPer1000: cd },
    gateway: { ...g, cpuSecondsPer1000: cg },
    roundThroughputRatios: roundRatios,
    concurrency: CONCURRENCY,
    seconds: DURATION / 1000,
    rounds: ROUNDS,
    cores: availableParallelism(),
    goalOverhead: 0.2,
  },
  {
    gateway_vs_direct_throughput: throughputRatio,
    gateway_vs_direct_p50: g.p50ms / d.p50ms,
    gateway_vs_direct_p99: g.p99ms / d.p99ms,
    gateway_throughput_overhead: 1 - throughputRatio,
    gateway_cpu_vs_engine_cpu_per_order: cg.gateway / cd.engine,
    engine_cpu_per_order_gateway_vs_direct: cg.engine / cd.engine,
    cpu_bound_throughput_ratio: cpuRatio,
  },
);
