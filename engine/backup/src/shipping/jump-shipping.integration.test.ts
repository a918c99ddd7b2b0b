// WAL shipping across a declared sequence jump (ADR 0012), with a real PostgreSQL server and real
// engine processes: the table already holds the records the engine then loses, the engine
// declares a jump over them in truncate_at_corruption, ships on from the jump, and a restore from
// the table to the jump rebuilds the log the engine has: the skipped records left out.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { veloz } from '@veloz/testing/backup';
import { orderLoad } from '@veloz/testing/backup';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';
import { startPostgres, type Postgres } from '@veloz/testing/postgres';
import { recordsIn } from '@veloz/testing/wal-testkit';
import { verifyWal } from '@veloz/wal/recovery';
import { CURRENT_SEGMENT } from '@veloz/wal/segments';

let pgServer: Postgres;
const dirs: string[] = [];
const procs: EngineProcess[] = [];

beforeAll(async () => {
  pgServer = await startPostgres({ fsync: 'off', synchronous_commit: 'off' });
});
afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  await pgServer?.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'veloz-ship-jump-'));
  dirs.push(d);
  return d;
}

interface WalStatus {
  durableSequence: number;
  recovery: { sequenceJump: { after: number; continuesAt: number; lost: number } | null };
}

async function status(url: string): Promise<WalStatus> {
  return (await (await fetch(`${url}/api/wal/status`)).json()) as WalStatus;
}

async function shippedSequence(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('veloz_wal_shipped_sequence'));
  return Number(line?.split(' ').at(-1) ?? -1);
}

async function caughtUp(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await shippedSequence(url)) !== (await status(url)).durableSequence) {
    if (Date.now() > deadline) throw new Error('shipping did not catch up');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('shipping and a declared sequence jump', () => {
  it('ships on from the jump, and a restore from PostgreSQL leaves out what it skipped', async () => {
    const wal = await tmp();
    const env = {
      VELOZ_WAL_DIR: wal,
      VELOZ_SIM_TICK_MS: '0',
      VELOZ_ORDER_RATE_LIMIT: '1000000',
      VELOZ_RISK_MAX_OPEN_ORDERS: '1000000',
      VELOZ_WAL_MAX_SIZE: '32768',
      VELOZ_WAL_CHECKPOINT_INTERVAL: '50',
      VELOZ_WAL_POSTGRES_URI: pgServer.url,
      VELOZ_DEPLOYMENT_NAME: 'ship-jump',
      VELOZ_WAL_SHIP_INTERVAL_MS: '20',
    };
    const a = await startEngineProcess(env, 60_000);
    procs.push(a);
    await orderLoad(a.url, 200, 4, 'a');
    await caughtUp(a.url);
    const shipped = await shippedSequence(a.url);
    expect(await a.kill('SIGTERM')).toBe(0);

    // The end of the current segment is lost locally; PostgreSQL holds it.
    const path = join(wal, CURRENT_SEGMENT);
    const buf = await readFile(path);
    await writeFile(path, buf.subarray(0, recordsIn(buf).at(-10)!.offset));
    const b = await startEngineProcess({ ...env, VELOZ_WAL_RECOVERY_MODE: 'truncate_at_corruption' }, 60_000);
    procs.push(b);
    const jump = (await status(b.url)).recovery.sequenceJump!;
    expect(jump.continuesAt).toBe(shipped + 1);
    // Shipping goes on (it would otherwise stop on a table ahead of the WAL).
    await caughtUp(b.url);
    expect(await shippedSequence(b.url)).toBeGreaterThanOrEqual(jump.continuesAt);
    expect(await b.kill('SIGTERM')).toBe(0);

    const restored = await tmp();
    const r = await veloz([
      'restore',
      '--from',
      pgServer.url,
      '--deployment',
      'ship-jump',
      '--pair',
      '0',
      '--to',
      restored,
      '--up-to-sequence',
      String(jump.continuesAt),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = await verifyWal(restored);
    expect(report.problems).toEqual([]);
    expect(report.lastSequence).toBe(jump.continuesAt);
    expect(report.jumps.map((j) => ({ previous: j.previous, seq: j.seq }))).toEqual([
      { previous: jump.after, seq: jump.continuesAt },
    ]);
    const seqs = new Set<number>();
    for (const n of await readdir(restored))
      if (n.endsWith('.wal'))
        for (const rec of recordsIn(await readFile(join(restored, n)))) seqs.add(rec.seq);
    expect([...seqs].filter((s) => s > jump.after && s < jump.continuesAt)).toEqual([]);
    // The rebuilt log starts (strict) like the engine's own.
    const c = await startEngineProcess(
      { ...env, VELOZ_WAL_DIR: restored, VELOZ_WAL_POSTGRES_URI: '' },
      60_000,
    );
    procs.push(c);
    expect(await c.kill('SIGTERM')).toBe(0);
  });
});
