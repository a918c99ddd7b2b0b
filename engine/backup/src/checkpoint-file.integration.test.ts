// Checkpoints kept in their own files (ADR 0019) through `veloz backup` and `veloz restore`, as
// the CronJob and the init container run them: the backup carries the files the log's records
// name (once: an unchanged file is not sent again), the restore puts them back, the restored WAL
// verifies and an engine started on it holds the same orders.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  backupArgs,
  backupEngineEnv,
  BackupScratch,
  engineView,
  lastJson,
  orderLoad,
  restoreArgs,
  veloz,
} from '@veloz/testing/backup';
import { verifyWal } from '@veloz/wal/recovery';
import { SNAPSHOT_FILE } from '@veloz/wal/segments';

const scratch = new BackupScratch('veloz-ckf-');
afterAll(() => scratch.cleanup());

interface BackupOut {
  sequence: number;
  sentFiles: string[];
}

const checkpointFiles = async (dir: string) =>
  (await readdir(dir)).filter((f) => SNAPSHOT_FILE.test(f)).sort();

describe('checkpoint files in backups', () => {
  it('are backed up once, restored beside the segments, and the restored WAL replays to the same orders', async () => {
    const wal = await scratch.tmp();
    const dest = await scratch.tmp('veloz-ckf-dest-');
    const env = backupEngineEnv(wal, {
      // Checkpoints often, segments never full: the log's newest checkpoint is a file.
      VELOZ_WAL_CHECKPOINT_INTERVAL: '50',
      VELOZ_WAL_MAX_SIZE: String(64 << 20),
    });
    const a = await scratch.engine(env);
    await orderLoad(a.url, 1200, 8, 'ckf');
    await expect.poll(() => checkpointFiles(wal), { timeout: 60_000 }).not.toEqual([]);
    const files = await checkpointFiles(wal);
    const args = backupArgs(a.url, dest);
    const first = await veloz(args);
    expect(first.code, first.stderr).toBe(0);
    const sent = lastJson<BackupOut>(first).sentFiles;
    for (const f of files) expect(sent).toContain(f);
    // Nothing new: the files the store holds are not sent again.
    const second = await veloz(args);
    expect(second.code, second.stderr).toBe(0);
    expect(lastJson<BackupOut>(second).sentFiles.filter((f) => SNAPSHOT_FILE.test(f))).toEqual([]);
    const before = await engineView(a.url);
    expect(await a.kill('SIGTERM')).toBe(0);

    await rm(wal, { recursive: true, force: true });
    const r = await veloz(restoreArgs(dest, wal));
    expect(r.code, r.stderr).toBe(0);
    expect(await checkpointFiles(wal)).toEqual(expect.arrayContaining(files.slice(-1)));
    const report = await verifyWal(wal);
    expect(report.problems).toEqual([]);
    expect(report.healthy).toBe(true);
    // `veloz wal verify` checks every file a record names.
    const v = await veloz(['wal', 'verify', wal]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const b = await scratch.engine(env);
    const after = await engineView(b.url);
    expect(await b.kill('SIGTERM')).toBe(0);
    expect(after.orders).toEqual(before.orders);

    // A checkpoint file a record names and that is gone is named by `veloz wal verify`.
    const damaged = await scratch.tmp();
    const rr = await veloz(restoreArgs(dest, damaged));
    expect(rr.code, rr.stderr).toBe(0);
    const newest = (await checkpointFiles(damaged)).at(-1)!;
    await rm(join(damaged, newest));
    const bad = await veloz(['wal', 'verify', damaged]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`checkpoint file ${newest} cannot be read`);
  });
});
