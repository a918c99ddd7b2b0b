// npm run bench:orders -- POST /api/orders on the real engine (WAL sync on, its own process)
// against a bare fastify route (bare-server.ts, its own process) in the same run.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINE_V8_FLAGS } from '@veloz/api/engine-node-options';
import { startEngineProcess } from '@veloz/testing/engine-process';
import { load, type LoadResult } from './load.ts';
import { fmt, report, seconds } from '@veloz/testing/bench-report';

const DURATION = seconds('BENCH_SECONDS', 5) * 1000;
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 64);
// Orders resting on the engine before the measurement: every checkpoint holds them all (issue 20).
const OPEN_ORDERS = Number(process.env['BENCH_OPEN_ORDERS'] ?? 50_000);
if (!Number.isInteger(OPEN_ORDERS) || OPEN_ORDERS < 0)
  throw new Error('BENCH_OPEN_ORDERS must be a whole number of orders');
// VELOZ_WAL_MAX_SIZE of the engine: small, the window holds segment rotations, each with the
// checkpoint its new segment starts with (ADR 0019). Unset: the engine's default (64 MiB).
const WAL_MAX_SIZE = process.env['BENCH_WAL_MAX_SIZE'];
if (WAL_MAX_SIZE !== undefined && !/^\d+$/.test(WAL_MAX_SIZE))
  throw new Error('BENCH_WAL_MAX_SIZE must be a number of bytes');
/** Goals of issue 20, printed beside the ratios. */
const GOAL_THROUGHPUT = 0.5;
const GOAL_P99 = 2;
const order = (i: number) => ({
  symbol: 'BTCUSDT',
  side: i % 2 ? 'BUY' : 'SELL',
  type: 'LIMIT',
  quantity: '0.010',
  // Far from the market so orders rest: the ack path, not matching, is measured.
  price: i % 2 ? '1000.00' : '900000.00',
  clientOrderId: `b-${i}`,
});

async function bare(): Promise<LoadResult> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./bare-server.ts', import.meta.url))], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  const port = Number(chunk.toString().trim());
  try {
    await load(`http://127.0.0.1:${port}/api/orders`, order, CONCURRENCY, 500);
    return await load(`http://127.0.0.1:${port}/api/orders`, order, CONCURRENCY, DURATION);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

/** Checkpoints written and segments sealed so far, from the engine's metrics. */
async function walEvents(url: string): Promise<{ checkpoints: number; rotations: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const count = (name: string): number => {
    const m = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
    if (!m) throw new Error(`the engine reports no ${name}`);
    return Number(m[1]);
  };
  return { checkpoints: count('veloz_wal_checkpoints_total'), rotations: count('veloz_wal_rotations_total') };
}

/** Resident set size of process `pid` now (`VmRSS`) or at its peak (`VmHWM`), in bytes (Linux). */
async function rss(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** The engine's resident set size once ready and idle, and at its peak during the run. */
const engineRss = { idleBytes: 0, peakBytes: 0 };

async function engine(): Promise<LoadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'veloz-bench-orders-'));
  const eng = await startEngineProcess({
    // The engine container's V8 flags (the render adds only the heap limit): the shipped engine.
    // BENCH_ENGINE_NODE_OPTIONS adds more, e.g. `--cpu-prof --cpu-prof-dir=DIR` to profile it.
    NODE_OPTIONS: [...ENGINE_V8_FLAGS, process.env['BENCH_ENGINE_NODE_OPTIONS'] ?? ''].join(' ').trim(),
    VELOZ_WAL_DIR: dir,
    VELOZ_WAL_SYNC: 'true',
    VELOZ_ORDER_RATE_LIMIT: '1000000',
    VELOZ_RISK_MAX_OPEN_ORDERS: '1000000',
    // Orders placed through the API are kept whole for the idempotency window (ADR 10); a bench
    // placing hundreds of thousands would measure checkpoints of them instead of the order path.
    VELOZ_IDEMPOTENCY_WINDOW: '1',
    ...(WAL_MAX_SIZE !== undefined ? { VELOZ_WAL_MAX_SIZE: WAL_MAX_SIZE } : {}),
  });
  try {
    await new Promise((r) => setTimeout(r, 2000));
    engineRss.idleBytes = await rss(eng.child.pid, 'VmRSS');
    const fill = await load(
      `${eng.url}/api/orders`,
      (i) => order(i + 10_000_000),
      CONCURRENCY,
      3_600_000,
      {},
      Math.max(OPEN_ORDERS, 500),
    );
    if (fill.errors > 0 || Object.keys(fill.statuses).some((s) => s !== '201'))
      throw new Error(`filling the engine failed: ${JSON.stringify(fill.statuses)}, ${fill.errors} errors`);
    console.error(`engine holds ${fill.requests} resting orders; measuring`);
    const before = await walEvents(eng.url);
    const result = await load(`${eng.url}/api/orders`, order, CONCURRENCY, DURATION);
    // Whether the window held a checkpoint or a rotation at all: the p99 is about them (issue 20).
    const after = await walEvents(eng.url);
    console.log(
      `engine checkpoints during the measurement: ${after.checkpoints - before.checkpoints}, ` +
        `segment rotations: ${after.rotations - before.rotations}` +
        (WAL_MAX_SIZE !== undefined ? ` (VELOZ_WAL_MAX_SIZE=${WAL_MAX_SIZE})` : ''),
    );
    engineRss.peakBytes = await rss(eng.child.pid, 'VmHWM');
    return result;
  } finally {
    await eng.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

const base = await bare();
const eng = await engine();
if (eng.errors > 0 || Object.keys(eng.statuses).some((s) => s !== '201')) {
  throw new Error(`engine answered unexpectedly: ${JSON.stringify(eng.statuses)}, ${eng.errors} errors`);
}
const rows = [
  {
    target: 'bare fastify route',
    concurrency: CONCURRENCY,
    'req/s': fmt(base.perSecond),
    'p50 ms': base.p50ms.toFixed(2),
    'p99 ms': base.p99ms.toFixed(2),
  },
  {
    target: 'engine POST /api/orders (sync on)',
    concurrency: CONCURRENCY,
    'req/s': fmt(eng.perSecond),
    'p50 ms': eng.p50ms.toFixed(2),
    'p99 ms': eng.p99ms.toFixed(2),
  },
];
const throughput = eng.perSecond / base.perSecond;
const p99 = eng.p99ms / base.p99ms;
console.log(`resting open orders before the run: ${OPEN_ORDERS}`);
console.log(
  `engine RSS (V8 flags: ${ENGINE_V8_FLAGS.join(' ') || 'none'}): ${fmt(engineRss.idleBytes / 2 ** 20)} MiB ` +
    `idle after start, ${fmt(engineRss.peakBytes / 2 ** 20)} MiB peak`,
);
console.log(
  `goal: throughput ratio >= ${GOAL_THROUGHPUT} (${throughput >= GOAL_THROUGHPUT ? 'met' : 'NOT met'}), ` +
    `p99 ratio <= ${GOAL_P99} (${p99 <= GOAL_P99 ? 'met' : 'NOT met'})`,
);
report(
  'orders',
  rows,
  {
    bare: base,
    engine: eng,
    concurrency: CONCURRENCY,
    seconds: DURATION / 1000,
    openOrders: OPEN_ORDERS,
    engineIdleRssBytes: engineRss.idleBytes,
    enginePeakRssBytes: engineRss.peakBytes,
    walMaxSize: WAL_MAX_SIZE === undefined ? null : Number(WAL_MAX_SIZE),
    goals: { throughput: GOAL_THROUGHPUT, p99: GOAL_P99 },
  },
  {
    engine_vs_bare_throughput: throughput,
    engine_vs_bare_p50: eng.p50ms / base.p50ms,
    engine_vs_bare_p99: p99,
  },
);
