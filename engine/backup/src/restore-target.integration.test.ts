// `veloz restore --if-empty` as the engine pod's init container runs it at every start, against
// the volumes it meets: one holding only stray files (it used to skip those as "already holds a
// WAL", and the engine then started with an empty book), and one holding a real WAL (left alone).
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupArgs, engineView, lastJson, orderLoad, veloz, type EngineView } from '@veloz/testing/backup';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';

const dirs: string[] = [];
const procs: EngineProcess[] = [];

async function tmp(prefix = 'veloz-rt-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

const engineEnv = (wal: string) => ({
  VELOZ_WAL_DIR: wal,
  // Who the engine says it is: `veloz backup` refuses another deployment or pair.
  VELOZ_DEPLOYMENT_NAME: 'prod',
  VELOZ_PAIR_INDEX: '0',
  VELOZ_SIM_TICK_MS: '0',
  VELOZ_ORDER_RATE_LIMIT: '1000000',
  VELOZ_ORDER_HISTORY: '100000',
  VELOZ_WAL_MAX_SIZE: '65536',
});

async function engine(wal: string): Promise<EngineProcess> {
  const e = await startEngineProcess(engineEnv(wal));
  procs.push(e);
  return e;
}

const restore = (from: string, to: string, ...more: string[]) =>
  veloz(['restore', '--from', from, '--deployment', 'prod', '--pair', '0', '--to', to, ...more]);

let source: string;
let dest: string;
let backedUp: EngineView;

beforeAll(async () => {
  source = await tmp();
  dest = await tmp('veloz-rt-dest-');
  const a = await engine(source);
  await orderLoad(a.url, 300, 8, 'a');
  const b = await veloz(backupArgs(a.url, dest));
  expect(b.code, b.stderr).toBe(0);
  backedUp = await engineView(a.url);
  expect(await a.kill('SIGTERM')).toBe(0);
});

afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('veloz restore --if-empty', () => {
  it('restores into a volume holding only stray files, names them, and the engine starts with every backed-up order', async () => {
    const to = await tmp();
    // An engine killed before its first record, a note, an engine's write probe, lost+found.
    await writeFile(join(to, 'orders_current.wal'), '');
    await writeFile(join(to, 'README'), 'restored from the drill of 2026-11-21\n');
    await writeFile(join(to, '.veloz-write-check-1'), '');
    const r = await restore(dest, to, '--if-empty');
    expect(r.code, r.stderr).toBe(0);
    const out = lastJson<{ result: string; strayFiles: string[]; setAside: string[]; lastSequence: number }>(
      r,
    );
    expect(out).toMatchObject({
      result: 'restored',
      strayFiles: ['orders_current.wal (no record)', '.veloz-write-check-1', 'README'],
      setAside: [expect.stringMatching(/\/quarantine\/\d+-orders_current\.wal$/)],
    });
    expect(r.stderr).toContain(
      `${to} holds no WAL, restoring into it; found: orders_current.wal (no record)`,
    );
    expect(await readFile(join(to, 'README'), 'utf8')).toContain('drill');
    const b = await engine(to);
    expect((await engineView(b.url)).orders).toEqual(backedUp.orders);
    expect(await b.kill('SIGTERM')).toBe(0);
  });

  it('leaves a volume holding a WAL alone, saying which segment holds records; without a flag it refuses', async () => {
    const to = await tmp();
    const segment = 'orders_current.wal';
    await copyFile(join(source, segment), join(to, segment));
    const before = await readFile(join(to, segment));
    const skip = await restore(dest, to, '--if-empty');
    expect(skip.code, skip.stderr).toBe(0);
    expect(lastJson<{ result: string; reason: string }>(skip)).toMatchObject({
      result: 'skipped',
      reason: expect.stringMatching(/ holds a WAL: orders_current\.wal: \d+ records, sequences \d+-\d+$/),
    });
    const refused = await restore(dest, to);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is not empty \(it holds a WAL: orders_current\.wal: \d+ records/);
    expect(await readdir(to)).toEqual([segment]);
    expect(await readFile(join(to, segment))).toEqual(before);
  });

  it('without a flag refuses stray files too, naming them', async () => {
    const to = await tmp();
    await writeFile(join(to, 'README'), 'x');
    const r = await restore(dest, to);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is not empty (it holds no WAL, but: README)');
    expect(r.stderr).toContain('--if-empty to restore beside what is not a WAL');
  });
});
