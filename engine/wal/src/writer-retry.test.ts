// After a write failure the WAL retries by itself: once the disk takes writes again, every record
// queued before and during the failure -- already applied to the caller's state -- is written, so
// the log and the state agree, and appends are taken again.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CURRENT_SEGMENT, SEALED_SEGMENT } from './segments.ts';
import { verifyWal } from './recovery.ts';
import { newOrderRecord } from '@veloz/testing/orders';
import { FileTap, Harness, TempDirs, enospc, normalizedSnapshot } from '@veloz/testing/wal-testkit';
import { WalUnavailableError, type WalWriterOptions } from './writer.ts';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

type Opts = Omit<WalWriterOptions, 'dir' | 'now'>;
const FAST_RETRY = { initialMs: 5, maxMs: 20 };

const place = (h: Harness): number => h.commit(newOrderRecord(h.state.nextOrderId));

const errno = (code: string, message: string) => Object.assign(new Error(`${code}: ${message}`), { code });

interface Events {
  failures: Array<{ code: string; path: string; attempt: number }>;
  writable: number[];
}

async function open(opts: Opts, tap: FileTap, dir?: string) {
  const d = dir ?? (await dirs.make());
  const ev: Events = { failures: [], writable: [] };
  const { h } = await Harness.open({
    dir: d,
    ...opts,
    retry: FAST_RETRY,
    openFile: tap.openFile,
    hooks: {
      onWriteFailure: (err, attempt) => ev.failures.push({ code: err.code, path: err.path, attempt }),
      onWritable: (_s, attempts) => ev.writable.push(attempts),
    },
  });
  return { dir: d, h, ev };
}

async function until(what: string, fn: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('a WAL write failure is retried until the disk takes writes again', () => {
  const BIG: Opts = { maxSegmentBytes: 64 * 1024 * 1024, maxFiles: 10, sync: true, checkpointInterval: 0 };

  it.each([
    { name: 'ENOSPC after a short write', fault: 'short' as const, code: 'ENOSPC' },
    { name: 'ENOSPC on the first byte', fault: 'write' as const, code: 'ENOSPC' },
    { name: 'EACCES on write', fault: 'eacces' as const, code: 'EACCES' },
    { name: 'EIO on fdatasync', fault: 'datasync' as const, code: 'EIO' },
  ])('$name', async ({ fault, code }) => {
    const tap = new FileTap();
    const { dir, h, ev } = await open(BIG, tap);
    for (let i = 0; i < 5; i++) await h.wal.waitDurable(place(h));

    let broken = true;
    let shortDone = false;
    tap.beforeWrite = (len) => {
      if (!broken) return;
      if (fault === 'short' && !shortDone) {
        shortDone = true;
        return Math.floor(len / 2) + 3;
      }
      if (fault === 'short' || fault === 'write') throw enospc();
      if (fault === 'eacces') throw errno('EACCES', 'permission denied, write');
    };
    tap.beforeDatasync = () => {
      if (broken && fault === 'datasync') throw errno('EIO', 'i/o error, fdatasync');
    };
    const doomed = Array.from({ length: 10 }, () => place(h));
    const outcomes = await Promise.allSettled(doomed.map((s) => h.wal.waitDurable(s)));
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    expect(() => place(h)).toThrow(WalUnavailableError);
    expect(h.wal.failed?.code).toBe(code);
    expect(h.wal.failed?.path).toBe(join(dir, CURRENT_SEGMENT));
    expect(h.wal.failed?.message).toContain(join(dir, CURRENT_SEGMENT));
    // It keeps trying with a growing delay while the disk refuses.
    await until('a few retries', () => ev.failures.length >= 3);
    expect(ev.failures.map((f) => f.attempt).slice(0, 3)).toEqual([1, 2, 3]);
    expect(ev.failures.every((f) => f.code === code)).toBe(true);
    expect(ev.writable).toEqual([]);

    broken = false;
    await until('writable again', () => h.wal.failed === null);
    expect(ev.writable).toHaveLength(1);
    // The records refused an answer during the failure are now durable: the log matches the state.
    expect(h.wal.durableSequence).toBe(doomed.at(-1));
    const next = place(h);
    await h.wal.waitDurable(next);
    const stateNow = normalizedSnapshot(h.state);
    await h.wal.close();

    const { h: again } = await Harness.open({ dir, ...BIG });
    expect(normalizedSnapshot(again.state)).toEqual(stateNow);
    await again.wal.close();
    expect((await verifyWal(dir)).healthy).toBe(true);
  });

  it('resumes a rotation that failed half way (no new current file)', async () => {
    const tap = new FileTap();
    const opts: Opts = { maxSegmentBytes: 2048, maxFiles: 10, sync: true, checkpointInterval: 0 };
    const { dir, h, ev } = await open(opts, tap);
    let broken = true;
    tap.beforeOpen = (_path, flags) => {
      if (broken && flags !== 'r+') throw errno('ENOSPC', 'no space left on device, open');
    };
    const seqs: number[] = [];
    while (h.wal.failed === null && seqs.length < 200) {
      seqs.push(place(h));
      await h.wal.waitDurable(seqs.at(-1)!).catch(() => undefined);
    }
    expect(h.wal.failed?.code).toBe('ENOSPC');
    expect(await readdir(dir)).not.toContain(CURRENT_SEGMENT);
    broken = false;
    await until('writable again', () => h.wal.failed === null);
    expect(ev.writable).toHaveLength(1);
    expect(h.wal.durableSequence).toBe(h.wal.lastSequence);
    for (let i = 0; i < 30; i++) place(h);
    await h.wal.flush();
    const stateNow = normalizedSnapshot(h.state);
    await h.wal.close();
    await tap.closeAll();
    const { h: again } = await Harness.open({ dir, ...opts });
    expect(normalizedSnapshot(again.state)).toEqual(stateNow);
    await again.wal.close();
    expect((await verifyWal(dir)).healthy).toBe(true);
  });

  it('a failed retention delete is retried without sealing anything twice', async () => {
    const tap = new FileTap();
    const opts: Opts = { maxSegmentBytes: 2048, maxFiles: 1, sync: true, checkpointInterval: 0 };
    const { dir, h, ev } = await open(opts, tap);
    const sealed = async () => (await readdir(dir)).filter((n) => SEALED_SEGMENT.test(n)).sort();
    while ((await sealed()).length < 1) await h.wal.waitDurable(place(h));
    // The oldest sealed segment becomes a directory that unlink() refuses (EISDIR).
    const [oldest] = await sealed();
    await rm(join(dir, oldest!));
    await mkdir(join(dir, oldest!));
    await writeFile(join(dir, oldest!, 'x'), 'x');
    while (h.wal.failed === null) await h.wal.waitDurable(place(h)).catch(() => undefined);
    expect(h.wal.failed?.path).toBe(join(dir, oldest!));
    await until('a retry', () => ev.failures.length >= 2);
    const before = await sealed();
    expect(before).toHaveLength(2);
    await rm(join(dir, oldest!), { recursive: true });
    await until('writable again', () => h.wal.failed === null);
    // The retry finished the retention of that rotation and rotated nothing more.
    expect(await sealed()).toEqual(before.slice(1));
    for (let i = 0; i < 40; i++) place(h);
    await h.wal.flush();
    const stateNow = normalizedSnapshot(h.state);
    await h.wal.close();
    const { h: again } = await Harness.open({ dir, ...opts });
    expect(normalizedSnapshot(again.state)).toEqual(stateNow);
    await again.wal.close();
    expect((await verifyWal(dir)).healthy).toBe(true);
  });

  it('stops retrying when closed', async () => {
    const tap = new FileTap();
    const { h, ev } = await open(BIG, tap);
    tap.beforeWrite = () => {
      throw enospc();
    };
    await h.wal.waitDurable(place(h)).catch(() => undefined);
    await h.wal.close();
    const seen = ev.failures.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(ev.failures.length).toBe(seen);
  });
});
