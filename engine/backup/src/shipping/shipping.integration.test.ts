// PostgreSQL WAL shipping against a real server (Debian's packages) and a real engine process:
// an outage in the middle of order load, a restart of the engine, and restores from the table.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineView, lastJson, orderLoad, veloz } from '@veloz/testing/backup';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';
import { startPostgres, type Postgres } from '@veloz/testing/postgres';
import { tableName } from './schema.ts';
import { takeDown, type PostgresOutage } from '@veloz/testing/shipping';

let pgServer: Postgres;
const dirs: string[] = [];
const procs: EngineProcess[] = [];
/** A server brought back after an outage is a process of its own: stopped before the original. */
const outages: PostgresOutage[] = [];

beforeAll(async () => {
  pgServer = await startPostgres({ fsync: 'off', synchronous_commit: 'off' });
});
afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  for (const o of outages) await o.stop();
  await pgServer?.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'veloz-ship-'));
  dirs.push(d);
  return d;
}

function metric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

async function metrics(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

async function durable(url: string): Promise<number> {
  return ((await (await fetch(`${url}/api/wal/status`)).json()) as { durableSequence: number })
    .durableSequence;
}

/** Waits until the engine reports no shipping lag; fails the test after 20 s. */
async function caughtUp(url: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const text = await metrics(url);
    if (
      metric(text, 'veloz_wal_ship_lag_entries') === 0 &&
      metric(text, 'veloz_wal_shipped_sequence') === (await durable(url))
    )
      return;
    if (Date.now() > deadline)
      throw new Error(
        `shipping did not catch up:\n${text
          .split('\n')
          .filter((l) => l.includes('ship'))
          .join('\n')}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function tableStats(deployment: string, pair: number) {
  const c = new pg.Client({ connectionString: pgServer.url });
  await c.connect();
  try {
    const r = await c.query<{ n: string; d: string; min: string; max: string }>(
      `SELECT count(*)::text AS n, count(DISTINCT seq)::text AS d, min(seq)::text AS min, max(seq)::text AS max
       FROM "${tableName(deployment)}" WHERE pair = $1`,
      [pair],
    );
    const row = r.rows[0]!;
    return { rows: Number(row.n), distinct: Number(row.d), min: Number(row.min), max: Number(row.max) };
  } finally {
    await c.end();
  }
}

describe('PostgreSQL WAL shipping', () => {
  it('survives PostgreSQL going down under order load: no gaps, no duplicates, acknowledgements never wait', async () => {
    const wal = await tmp();
    const env = {
      VELOZ_WAL_DIR: wal,
      VELOZ_SIM_TICK_MS: '0',
      VELOZ_ORDER_RATE_LIMIT: '1000000',
      VELOZ_RISK_MAX_OPEN_ORDERS: '1000000',
      VELOZ_ORDER_HISTORY: '100000',
      VELOZ_WAL_MAX_SIZE: '65536',
      VELOZ_WAL_MAX_FILES: '1000',
      VELOZ_WAL_POSTGRES_URI: pgServer.url,
      VELOZ_DEPLOYMENT_NAME: 'ship-test',
      VELOZ_PAIR_INDEX: '3',
      VELOZ_WAL_SHIP_INTERVAL_MS: '20',
    };
    let eng = await startEngineProcess(env);
    procs.push(eng);
    await orderLoad(eng.url, 300, 8, 'a');
    await caughtUp(eng.url);
    expect(await tableStats('ship-test', 3)).toEqual({
      rows: await durable(eng.url),
      distinct: await durable(eng.url),
      min: 1,
      max: await durable(eng.url),
    });

    const outage = await takeDown(pgServer.url);
    outages.push(outage);
    try {
      // Orders keep being acknowledged while PostgreSQL is down; only the lag grows.
      await orderLoad(eng.url, 400, 8, 'b');
      const during = await metrics(eng.url);
      expect(metric(during, 'veloz_wal_ship_lag_entries')).toBeGreaterThan(0);
      expect(metric(during, 'veloz_wal_ship_errors_total')).toBeGreaterThan(0);
    } finally {
      await outage.restart();
    }
    await caughtUp(eng.url);
    let last = await durable(eng.url);
    expect(await tableStats('ship-test', 3)).toEqual({ rows: last, distinct: last, min: 1, max: last });

    // A restarted engine resumes from the highest shipped sequence.
    expect(await eng.kill('SIGTERM')).toBe(0);
    eng = await startEngineProcess(env);
    procs.push(eng);
    await orderLoad(eng.url, 200, 8, 'c');
    await caughtUp(eng.url);
    last = await durable(eng.url);
    expect(await tableStats('ship-test', 3)).toEqual({ rows: last, distinct: last, min: 1, max: last });
    const expected = await engineView(eng.url);
    expect(await eng.kill('SIGTERM')).toBe(0);

    // The whole log comes back from PostgreSQL, through the URI file as the init container has it.
    const uriFile = join(await tmp(), 'uri');
    await writeFile(uriFile, `${pgServer.url}\n`);
    const restored = await tmp();
    const r = await veloz(
      ['restore', '--from', 'postgres://', '--deployment', 'ship-test', '--pair', '3', '--to', restored],
      { VELOZ_WAL_POSTGRES_URI_FILE: uriFile },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson<{ lastSequence: number }>(r).lastSequence).toBe(last);
    const b = await startEngineProcess({ ...env, VELOZ_WAL_DIR: restored, VELOZ_WAL_POSTGRES_URI: '' });
    procs.push(b);
    const got = await engineView(b.url);
    expect(got.orders).toEqual(expected.orders);
    expect(await b.kill('SIGTERM')).toBe(0);
  });

  it('restores from PostgreSQL up to a sequence', async () => {
    const wal = await tmp();
    const env = {
      VELOZ_WAL_DIR: wal,
      VELOZ_SIM_TICK_MS: '0',
      VELOZ_ORDER_RATE_LIMIT: '1000000',
      VELOZ_RISK_MAX_OPEN_ORDERS: '1000000',
      VELOZ_WAL_MAX_SIZE: '32768',
      VELOZ_WAL_CHECKPOINT_INTERVAL: '50',
      VELOZ_WAL_POSTGRES_URI: pgServer.url,
      VELOZ_DEPLOYMENT_NAME: 'ship-pit',
      VELOZ_WAL_SHIP_INTERVAL_MS: '20',
    };
    const eng = await startEngineProcess(env);
    procs.push(eng);
    await orderLoad(eng.url, 150, 4, 'a');
    const atPoint = await engineView(eng.url);
    const point = (atPoint.orders as { lastSequence: number }).lastSequence;
    await orderLoad(eng.url, 150, 4, 'b');
    await caughtUp(eng.url);
    expect(await eng.kill('SIGTERM')).toBe(0);
    const restored = await tmp();
    const r = await veloz([
      'restore',
      '--from',
      pgServer.url,
      '--deployment',
      'ship-pit',
      '--pair',
      '0',
      '--to',
      restored,
      '--up-to-sequence',
      String(point),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const b = await startEngineProcess({ ...env, VELOZ_WAL_DIR: restored, VELOZ_WAL_POSTGRES_URI: '' });
    procs.push(b);
    expect((await engineView(b.url)).orders).toEqual(atPoint.orders);
    expect(await b.kill('SIGTERM')).toBe(0);
  });

  // Issue 16, item 5: the shipping position is a second high-water mark. Here the local one
  // (wal.json) is lost along with the current segment, and PostgreSQL still knows.
  it('stops a strict engine whose WAL ends before what PostgreSQL holds', async () => {
    const wal = await tmp();
    const env = {
      VELOZ_WAL_DIR: wal,
      VELOZ_SIM_TICK_MS: '0',
      VELOZ_ORDER_RATE_LIMIT: '1000000',
      VELOZ_WAL_MAX_SIZE: '32768',
      VELOZ_WAL_POSTGRES_URI: pgServer.url,
      VELOZ_DEPLOYMENT_NAME: 'ship-ahead',
      VELOZ_WAL_SHIP_INTERVAL_MS: '20',
    };
    const eng = await startEngineProcess(env);
    procs.push(eng);
    await orderLoad(eng.url, 150, 4, 'a');
    await caughtUp(eng.url);
    const shipped = await durable(eng.url);
    expect(await eng.kill('SIGTERM')).toBe(0);
    await rm(join(wal, 'orders_current.wal'));
    await rm(join(wal, 'wal.json'));

    const refused = await startEngineProcess(env).then(
      () => null,
      (err: unknown) => String(err),
    );
    expect(refused).toContain(`holds pair 0 up to sequence ${shipped}`);
    expect(refused).toContain('Refusing to start');
    expect(refused).toContain('--from postgres://');

    // Accepting the loss starts it; shipping stays stopped on the diverged table.
    const lossy = await startEngineProcess({ ...env, VELOZ_WAL_RECOVERY_MODE: 'truncate_at_corruption' });
    procs.push(lossy);
    expect(await lossy.kill('SIGTERM')).toBe(0);
  });
});
