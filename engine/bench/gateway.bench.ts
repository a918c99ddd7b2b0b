// npm run bench:gateway -- POST /api/orders through the gateway versus straight to the engine,
// in the same run against the same engine process (WAL sync on). Rounds alternate so a drift
// of the engine (a growing WAL, more open orders) weighs on both sides alike.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVeloz } from '../src/gateway/test-support.ts';
import { freePort } from '../src/testing/engine-process.ts';
import { load, type LoadResult } from './load.ts';
import { fmt, report, seconds } from './report.ts';

const DURATION = seconds('BENCH_SECONDS', 4) * 1000;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 64);
const KEY = 'bench-key-0123456789abcdef';
// BENCH_PROFILE=DIR writes a V8 CPU profile of the engine and of the gateway into DIR.
const PROFILE = process.env['BENCH_PROFILE'];
const nodeArgs = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : [];
let seq = 0;
const order = () => {
  const i = seq++;
  return {
    symbol: 'BTCUSDT',
    side: i % 2 ? 'BUY' : 'SELL',
    type: 'LIMIT',
    quantity: '0.010',
    // Far from the market so orders rest: the ack path, not matching, is measured.
    price: i % 2 ? '1000.00' : '900000.00',
    clientOrderId: `gb-${i}`,
  };
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

/** CPU seconds (user + system, all threads) a process has used so far. Linux only. */
function cpuOf(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    // Fields after the command name (which is in parentheses and may contain spaces).
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
const cpuNow = (): Cpu => {
  const u = process.cpuUsage();
  return {
    client: (u.user + u.system) / 1e6,
    engine: cpuOf(engine.child.pid),
    gateway: cpuOf(gateway.child.pid),
  };
};
const cpuDirect: Cpu = { client: 0, engine: 0, gateway: 0 };
const cpuVia: Cpu = { client: 0, engine: 0, gateway: 0 };
async function measured(into: Cpu, run: () => Promise<LoadResult>): Promise<LoadResult> {
  const before = cpuNow();
  const r = await run();
  const after = cpuNow();
  for (const k of ['client', 'engine', 'gateway'] as const) into[k] += after[k] - before[k];
  return r;
}

const direct: LoadResult[] = [];
const via: LoadResult[] = [];
try {
  await load(`${engineUrl}/api/orders`, order, CONCURRENCY, 500);
  await load(`${gatewayUrl}/api/orders`, order, CONCURRENCY, 500, { 'x-api-key': KEY });
  for (let r = 0; r < ROUNDS; r++) {
    direct.push(
      await measured(cpuDirect, () => load(`${engineUrl}/api/orders`, order, CONCURRENCY, DURATION / ROUNDS)),
    );
    via.push(
      await measured(cpuVia, () =>
        load(`${gatewayUrl}/api/orders`, order, CONCURRENCY, DURATION / ROUNDS, { 'x-api-key': KEY }),
      ),
    );
  }
} finally {
  await gateway.stop();
  await engine.stop();
  await rm(dir, { recursive: true, force: true });
}
const d = merge(direct);
const g = merge(via);
for (const [name, r] of [
  ['engine', d],
  ['gateway', g],
] as const) {
  if (r.errors > 0 || Object.keys(r.statuses).some((s) => s !== '201'))
    throw new Error(`${name} answered unexpectedly: ${JSON.stringify(r.statuses)}, ${r.errors} errors`);
}
const row = (target: string, r: LoadResult) => ({
  target,
  concurrency: CONCURRENCY,
  'req/s': fmt(r.perSecond),
  'p50 ms': r.p50ms.toFixed(2),
  'p99 ms': r.p99ms.toFixed(2),
});
const perK = (c: Cpu, r: LoadResult) => ({
  client: (c.client / r.requests) * 1000,
  engine: (c.engine / r.requests) * 1000,
  gateway: (c.gateway / r.requests) * 1000,
});
const cd = perK(cpuDirect, d);
const cg = perK(cpuVia, g);
console.log(
  `CPU seconds per 1000 orders  direct: client ${cd.client.toFixed(3)} engine ${cd.engine.toFixed(3)} gateway ${cd.gateway.toFixed(3)}`,
);
console.log(
  `                             via gateway: client ${cg.client.toFixed(3)} engine ${cg.engine.toFixed(3)} gateway ${cg.gateway.toFixed(3)}`,
);
const throughputOverhead = 1 - g.perSecond / d.perSecond;
report(
  'gateway',
  [row('engine POST /api/orders (direct, sync on)', d), row('gateway -> engine POST /api/orders', g)],
  {
    direct: d,
    gateway: g,
    concurrency: CONCURRENCY,
    seconds: DURATION / 1000,
    rounds: ROUNDS,
    goalOverhead: 0.2,
  },
  {
    gateway_vs_direct_throughput: g.perSecond / d.perSecond,
    gateway_vs_direct_p50: g.p50ms / d.p50ms,
    gateway_vs_direct_p99: g.p99ms / d.p99ms,
    gateway_throughput_overhead: throughputOverhead,
  },
);
