// Test and benchmark support for backups: a real MinIO server (built by hack/build-s3.sh from the
// Go module proxy, cached), the `veloz` CLI as a child process, and order load on an engine.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { VELOZ_BIN, freePort, startEngineProcess, type EngineProcess } from './engine-process.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export interface Minio {
  endpoint: string;
  env: Record<string, string>;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** Builds MinIO once (hack/build-s3.sh caches it) and returns the binary. */
export function minioBinary(): string {
  const build = spawnSync('bash', [join(REPO, 'hack/build-s3.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (build.status !== 0) throw new Error(`hack/build-s3.sh failed:\n${build.stderr}`);
  return spawnSync('bash', [join(REPO, 'hack/build-s3.sh'), '--print-bin'], {
    encoding: 'utf8',
  }).stdout.trim();
}

export async function startMinio(): Promise<Minio> {
  const bin = minioBinary();
  const dir = await mkdtemp(join(tmpdir(), 'veloz-minio-'));
  const port = await freePort();
  const consolePort = await freePort();
  const user = 'veloz-test';
  const password = 'veloz-test-secret';
  const child: ChildProcess = spawn(
    bin,
    [
      'server',
      dir,
      '--address',
      `127.0.0.1:${port}`,
      '--console-address',
      `127.0.0.1:${consolePort}`,
      '--quiet',
    ],
    {
      env: { ...process.env, MINIO_ROOT_USER: user, MINIO_ROOT_PASSWORD: password, MINIO_BROWSER: 'off' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`minio exited with ${child.exitCode}:\n${log}`);
    const ok = await fetch(`${endpoint}/minio/health/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`minio not ready after 30 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const env = {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: user,
    AWS_SECRET_ACCESS_KEY: password,
    AWS_REGION: 'us-east-1',
  };
  return {
    endpoint,
    env,
    createBucket: async (name) => {
      const c = new S3Client({
        endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: user, secretAccessKey: password },
      });
      try {
        await c.send(new CreateBucketCommand({ Bucket: name }));
      } finally {
        c.destroy();
      }
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `veloz ARGS` as a child process, the way the CronJob and the init container do. */
export async function veloz(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [VELOZ_BIN, ...args], {
    env: { ...process.env, VELOZ_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/**
 * A sim engine of deployment `prod` pair 0 (who `veloz backup` checks it backs up) with no order
 * limits that a test load could hit, and 64 KiB segments so a load crosses several rotations.
 */
export function backupEngineEnv(wal: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    VELOZ_WAL_DIR: wal,
    VELOZ_DEPLOYMENT_NAME: 'prod',
    VELOZ_PAIR_INDEX: '0',
    VELOZ_SIM_TICK_MS: '0',
    VELOZ_ORDER_RATE_LIMIT: '1000000',
    VELOZ_RISK_MAX_OPEN_ORDERS: '1000000',
    VELOZ_ORDER_HISTORY: '100000',
    VELOZ_WAL_MAX_SIZE: '65536',
    ...extra,
  };
}

/** `veloz backup` of the engine at `engineUrl` as deployment `prod` pair 0 into `dest`, as the CronJob runs it. */
export function backupArgs(engineUrl: string, dest: string, ...more: string[]): string[] {
  return [
    'backup',
    '--engine-url',
    engineUrl,
    '--deployment',
    'prod',
    '--pair',
    '0',
    '--dest',
    dest,
    ...more,
  ];
}

/** `veloz restore` of deployment `prod` pair 0 from `dest` into `to`, as the init container runs it. */
export function restoreArgs(dest: string, to: string, ...more: string[]): string[] {
  return ['restore', '--from', dest, '--deployment', 'prod', '--pair', '0', '--to', to, ...more];
}

/**
 * Temp directories and engine processes of a test file: cleanup() kills and removes them. Its
 * directories are named after `prefix` unless told otherwise, so that a leftover names its test.
 */
export class BackupScratch {
  private readonly prefix: string;
  private readonly dirs: string[] = [];
  private readonly procs: EngineProcess[] = [];

  constructor(prefix = 'veloz-bk-') {
    this.prefix = prefix;
  }

  async tmp(prefix = this.prefix): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), prefix));
    this.dirs.push(d);
    return d;
  }

  async engine(env: Record<string, string>): Promise<EngineProcess> {
    const e = await startEngineProcess(env);
    this.procs.push(e);
    return e;
  }

  async cleanup(): Promise<void> {
    for (const p of this.procs) await p.kill('SIGKILL');
    for (const d of this.dirs) await rm(d, { recursive: true, force: true });
  }
}

/** The last JSON line a command printed. */
export function lastJson<T>(r: CliResult): T {
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`no JSON output (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

/**
 * `n` orders from `concurrency` clients: resting limits, market orders that fill, and cancels,
 * so the log holds every record type. Returns the sequence of the last acknowledged change.
 */
export async function orderLoad(url: string, n: number, concurrency = 8, tag = 'o'): Promise<number> {
  let next = 0;
  let last = 0;
  const post = async (
    path: string,
    init: RequestInit,
  ): Promise<{ status: number; body: { lastSequence?: number; orderId?: number; status?: string } }> => {
    const res = await fetch(`${url}${path}`, init);
    return { status: res.status, body: (await res.json()) as { lastSequence?: number; orderId?: number } };
  };
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const market = i % 4 === 0;
      const body = market
        ? {
            symbol: 'BTCUSDT',
            side: i % 8 === 0 ? 'BUY' : 'SELL',
            type: 'MARKET',
            quantity: '0.001',
            clientOrderId: `${tag}-${i}`,
          }
        : {
            symbol: 'BTCUSDT',
            side: i % 2 === 0 ? 'BUY' : 'SELL',
            type: 'LIMIT',
            quantity: '0.002',
            price: i % 2 === 0 ? '40000.00' : '60000.00',
            clientOrderId: `${tag}-${i}`,
          };
      const r = await post('/api/orders', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (r.status !== 201) throw new Error(`order ${i}: ${r.status} ${JSON.stringify(r.body)}`);
      last = Math.max(last, r.body.lastSequence ?? 0);
      if (!market && i % 3 === 0) {
        const c = await post(`/api/orders/${r.body.orderId}`, { method: 'DELETE' });
        if (c.status !== 200) throw new Error(`cancel ${i}: ${c.status}`);
        last = Math.max(last, c.body.lastSequence ?? 0);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return last;
}

export interface EngineView {
  orders: unknown;
  positions: unknown;
}

export async function engineView(url: string): Promise<EngineView> {
  const orders = await (await fetch(`${url}/api/orders_state`)).json();
  const positions = await (await fetch(`${url}/api/positions`)).json();
  return { orders, positions };
}
