// Issue 16, item 5, as an operator meets it: a real engine with 1,500 acknowledged orders loses
// its current segment, starts with VELOZ_WAL_RECOVERY_MODE=truncate_at_corruption, takes more
// orders, and its WAL (which now declares a sequence jump) is backed up, incrementally backed up
// again and restored: the restored engine holds exactly the same orders, and the jump survives.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';
import { backupEngineEnv, engineView, lastJson, orderLoad, veloz } from '@veloz/testing/backup';
import { recordsIn } from '@veloz/testing/wal-testkit';
import { readMark } from '@veloz/wal/mark';
import { verifyWal } from '@veloz/wal/recovery';
import { CURRENT_SEGMENT, QUARANTINE_DIR } from '@veloz/wal/segments';

const dirs: string[] = [];
const procs: EngineProcess[] = [];
afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tmp(prefix = 'veloz-jump-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

function engineEnv(wal: string, extra: Record<string, string> = {}): Record<string, string> {
  return backupEngineEnv(wal, { VELOZ_WAL_MAX_FILES: '1000', ...extra });
}

async function engine(env: Record<string, string>): Promise<EngineProcess> {
  const e = await startEngineProcess(env, 60_000);
  procs.push(e);
  return e;
}

function backupArgs(url: string, dest: string): string[] {
  return ['backup', '--engine-url', url, '--deployment', 'prod', '--pair', '0', '--dest', dest];
}

async function allSequences(dir: string): Promise<number[]> {
  const out: number[] = [];
  const names = (await readdir(dir)).filter((n) => n.endsWith('.wal'));
  for (const n of names) for (const r of recordsIn(await readFile(join(dir, n)))) out.push(r.seq);
  return out;
}

describe('a WAL with a declared sequence jump', () => {
  it('is backed up, backed up again incrementally and restored to the same orders', async () => {
    const wal = await tmp();
    const a = await engine(engineEnv(wal));
    await orderLoad(a.url, 1500, 8, 'acked');
    expect(await a.kill('SIGTERM')).toBe(0);
    const mark = (await readMark(wal))!.durableSequence;

    // The current segment is deleted: a strict start refuses, a truncate start accepts the loss.
    await rm(join(wal, CURRENT_SEGMENT));
    const strict = await veloz(['wal', 'verify', wal]);
    expect(strict.code).toBe(1);
    const b = await engine(engineEnv(wal, { VELOZ_WAL_RECOVERY_MODE: 'truncate_at_corruption' }));
    // The jump is logged at WARN (the engine logs every recovery action there) and in /api/wal/status.
    expect(b.output()).toMatch(/declared a sequence jump: the log continues at (\d+)/);
    expect(b.output()).toMatch(/"level":"?(warn|40)"?.*"continuesAt":\d+.*WAL sequence jump declared/);
    const status = (await (await fetch(`${b.url}/api/wal/status`)).json()) as {
      recovery: {
        actions: string[];
        sequenceJump: { after: number; continuesAt: number; lost: number } | null;
      };
    };
    expect(status.recovery.actions.join('\n')).toContain(`continues at ${mark + 1}`);
    const declared = status.recovery.sequenceJump!;
    expect(declared.continuesAt).toBe(mark + 1);
    expect(declared.lost).toBe(mark - declared.after);
    await orderLoad(b.url, 100, 4, 'after');

    const dest = await tmp('veloz-jump-dest-');
    const first = await veloz(backupArgs(b.url, dest));
    expect(first.code, first.stderr).toBe(0);
    await orderLoad(b.url, 50, 4, 'later');
    // Incremental: the segment that starts with the jump is stored already and only grows.
    const second = await veloz(backupArgs(b.url, dest));
    expect(second.code, second.stderr).toBe(0);
    const out = lastJson<{ sequence: number }>(second);
    const before = await engineView(b.url);
    expect(await b.kill('SIGTERM')).toBe(0);

    const report = await verifyWal(wal);
    expect(report.problems).toEqual([]);
    expect(report.jumps.map((j) => ({ previous: j.previous, seq: j.seq, lost: j.lost }))).toEqual([
      { previous: declared.after, seq: declared.continuesAt, lost: declared.lost },
    ]);
    // No sequence number is in the log twice, and none the lost segment held is in it again.
    const live = await allSequences(wal);
    expect(new Set(live).size).toBe(live.length);
    const quarantined = await allSequences(join(wal, QUARANTINE_DIR)).catch(() => []);
    const reused = quarantined.filter((s) => s > report.jumps[0]!.previous && live.includes(s));
    expect(reused).toEqual([]);

    const to = await tmp();
    const r = await veloz(['restore', '--from', dest, '--deployment', 'prod', '--pair', '0', '--to', to]);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson<{ lastSequence: number }>(r).lastSequence).toBe(out.sequence);
    const restored = await verifyWal(to);
    expect(restored.problems).toEqual([]);
    expect(restored.jumps.map((j) => ({ previous: j.previous, seq: j.seq, lost: j.lost }))).toEqual(
      report.jumps.map((j) => ({ previous: j.previous, seq: j.seq, lost: j.lost })),
    );
    // The restored WAL starts in strict mode and holds the same orders.
    const c = await engine(engineEnv(to));
    const after = await engineView(c.url);
    expect(await c.kill('SIGTERM')).toBe(0);
    expect(after.orders).toEqual(before.orders);
  });
});

describe('a store that holds records the WAL then lost', () => {
  it('is not extended with a backup that would mix the two histories', async () => {
    const wal = await tmp();
    const dest = await tmp('veloz-jump-dest-');
    const a = await engine(engineEnv(wal));
    await orderLoad(a.url, 300, 8, 'acked');
    const before = await veloz(backupArgs(a.url, dest));
    expect(before.code, before.stderr).toBe(0);
    expect(await a.kill('SIGTERM')).toBe(0);

    // The current segment is cut at a record boundary: the store holds its lost end.
    const buf = await readFile(join(wal, CURRENT_SEGMENT));
    await writeFile(join(wal, CURRENT_SEGMENT), buf.subarray(0, recordsIn(buf).at(-20)!.offset));
    const b = await engine(engineEnv(wal, { VELOZ_WAL_RECOVERY_MODE: 'truncate_at_corruption' }));
    await orderLoad(b.url, 100, 4, 'after');
    const after = await veloz(backupArgs(b.url, dest));
    // Refused, saying why: appending to the stored segment would mix the lost records with the
    // ones written after the jump.
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(
      /orders_current\.wal: the engine's bytes after the \d+ this store holds do not continue them/,
    );
    expect(after.stderr).toMatch(/back up to a new destination/);
    expect(await b.kill('SIGTERM')).toBe(0);
  });
});
