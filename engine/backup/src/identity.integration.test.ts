// Issue 16, item 10 (and the backup side of item 5): `veloz backup` did not check which engine it
// talked to, so another engine's history could be stored as deployment/pair X and restored later
// as X. Engines now say who they are (deployment, pair, WAL id); backup and restore refuse a
// mismatch unless --force, and a backup refuses an engine that lost records a backup holds.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJson, orderLoad, veloz } from '@veloz/testing/backup';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';
import type { Manifest } from './manifest.ts';

const dirs: string[] = [];
const procs: EngineProcess[] = [];

async function tmp(prefix = 'veloz-id-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

async function engine(wal: string, extra: Record<string, string> = {}): Promise<EngineProcess> {
  const e = await startEngineProcess({
    VELOZ_WAL_DIR: wal,
    VELOZ_DEPLOYMENT_NAME: 'prod',
    VELOZ_PAIR_INDEX: '0',
    VELOZ_SIM_TICK_MS: '0',
    VELOZ_ORDER_RATE_LIMIT: '1000000',
    VELOZ_ORDER_HISTORY: '100000',
    VELOZ_WAL_MAX_SIZE: '65536',
    ...extra,
  });
  procs.push(e);
  return e;
}

const backup = (url: string, dest: string, deployment: string, ...more: string[]) =>
  veloz(['backup', '--engine-url', url, '--deployment', deployment, '--pair', '0', '--dest', dest, ...more]);

const restore = (dest: string, deployment: string, to: string, ...more: string[]) =>
  veloz(['restore', '--from', dest, '--deployment', deployment, '--pair', '0', '--to', to, ...more]);

interface Identity {
  deployment: string;
  pair: number;
  walId: string;
}

async function identityOf(url: string): Promise<Identity> {
  const res = await fetch(`${url}/api/wal/status`);
  return ((await res.json()) as { identity: Identity }).identity;
}

async function manifests(dest: string, deployment: string): Promise<Manifest[]> {
  const base = join(dest, deployment, '0');
  const names = (await readdir(base)).filter((n) => n !== 'segments').sort();
  return Promise.all(
    names.map(async (n) => JSON.parse(await readFile(join(base, n, 'manifest.json'), 'utf8')) as Manifest),
  );
}

let walA: string;
let a: EngineProcess;
let dest: string;
let id: Identity;

beforeAll(async () => {
  walA = await tmp();
  dest = await tmp('veloz-id-dest-');
  a = await engine(walA);
  await orderLoad(a.url, 120, 4, 'a');
  id = await identityOf(a.url);
});

afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('engine identity', () => {
  it('is in /api/wal/status: deployment, pair and the WAL id of wal.json', async () => {
    const mark = JSON.parse(await readFile(join(walA, 'wal.json'), 'utf8')) as { walId: string };
    expect(id).toEqual({ deployment: 'prod', pair: 0, walId: mark.walId });
  });

  it('goes into the backup manifest', async () => {
    const r = await backup(a.url, dest, 'prod');
    expect(r.code, r.stderr).toBe(0);
    expect((await manifests(dest, 'prod')).at(-1)!.identity).toEqual(id);
  });

  it('makes veloz backup refuse to store the engine as another deployment, unless --force', async () => {
    const r = await backup(a.url, dest, 'other');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refusing to back up');
    expect(r.stderr).toContain(`is deployment prod pair 0, not deployment other pair 0`);
    expect(r.stderr).toContain('--force');
    await expect(readdir(join(dest, 'other'))).rejects.toThrow();
    const forced = await backup(a.url, dest, 'other', '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect((await manifests(dest, 'other')).at(-1)!.identity).toEqual(id);
  });

  it('makes veloz restore refuse a backup another deployment made, unless --force', async () => {
    const to = await tmp();
    const r = await restore(dest, 'other', to);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refusing to restore');
    expect(r.stderr).toContain('holds the WAL of deployment prod pair 0');
    expect(await readdir(to)).toEqual([]);
    const forced = await restore(dest, 'other', to, '--force');
    expect(forced.code, forced.stderr).toBe(0);
  });

  it('makes veloz backup refuse an engine with another WAL than the newest backup', async () => {
    const b = await engine(await tmp());
    await orderLoad(b.url, 10, 2, 'b');
    const r = await backup(b.url, dest, 'prod');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the engine's WAL id ${(await identityOf(b.url)).walId} is not ${id.walId}`);
    await b.kill('SIGTERM');
  });

  it('survives a restore: the restored engine keeps the WAL id and backs up as before', async () => {
    const to = await tmp();
    const r = await restore(dest, 'prod', to);
    expect(r.code, r.stderr).toBe(0);
    const c = await engine(to);
    expect(await identityOf(c.url)).toEqual(id);
    await orderLoad(c.url, 10, 2, 'c');
    const again = await backup(c.url, dest, 'prod');
    expect(again.code, again.stderr).toBe(0);
    expect(await c.kill('SIGTERM')).toBe(0);
  });
});

describe('acknowledged records lost on the engine', () => {
  it('stop a strict engine from starting, and a backup from storing what is left', async () => {
    await orderLoad(a.url, 30, 2, 'a2');
    // A store of its own: the one above now holds the restored clone's backups too.
    const dest2 = await tmp('veloz-id-dest-');
    const before = lastJson<{ sequence: number }>(await backup(a.url, dest2, 'prod'));
    expect(await a.kill('SIGTERM')).toBe(0);
    await rm(join(walA, 'orders_current.wal'));

    const refused = await engine(walA).then(
      () => null,
      (err: unknown) => String(err),
    );
    expect(refused).toMatch(/acknowledged records \d+ to \d+ are missing: wal\.json/);
    expect(refused).toContain('truncate_at_corruption');
    const verify = await veloz(['wal', 'verify', walA]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(/records \d+ to \d+ are missing/);

    // Accepting the loss starts the engine; the backup does not cover it up.
    const lossy = await engine(walA, { VELOZ_WAL_RECOVERY_MODE: 'truncate_at_corruption' });
    const r = await backup(lossy.url, dest2, 'prod');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`holds records up to ${before.sequence}: acknowledged records are missing`);
    await lossy.kill('SIGTERM');
  });
});
