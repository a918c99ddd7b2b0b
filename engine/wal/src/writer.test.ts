import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordType } from './framing.ts';
import { CURRENT_SEGMENT, SEALED_SEGMENT } from './segments.ts';
import { verifyWal } from './recovery.ts';
import { newOrderRecord } from '@veloz/testing/orders';
import {
  FileTap,
  Harness,
  TempDirs,
  enospc,
  normalizedSnapshot,
  recordsIn,
  recoverState,
} from '@veloz/testing/wal-testkit';
import { WalUnavailableError, type WalWriterOptions } from './writer.ts';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

type Opts = Omit<WalWriterOptions, 'dir' | 'now'>;
const BIG: Opts = { maxSegmentBytes: 64 * 1024 * 1024, maxFiles: 10, sync: true, checkpointInterval: 0 };

/** Places the next order on `h` (ids are consecutive) and returns its sequence number. */
function place(h: Harness): number {
  return h.commit(newOrderRecord(h.state.nextOrderId));
}

async function open(opts: Opts, tap?: FileTap, dir?: string, historyLimit = 1000) {
  const d = dir ?? (await dirs.make());
  const { h, recovered } = await Harness.open(
    { dir: d, ...opts, ...(tap ? { openFile: tap.openFile } : {}) },
    historyLimit,
  );
  return { dir: d, h, recovered };
}

/** Places an order and cancels it: with no history kept, the checkpoints stay small. */
function placeAndCancel(h: Harness): void {
  const id = h.state.nextOrderId;
  h.commit(newOrderRecord(id));
  h.commit({ type: RecordType.OrderCancel, data: { orderId: id, reason: '' } });
}

async function segmentTypes(dir: string, name: string): Promise<number[]> {
  return recordsIn(await readFile(join(dir, name))).map((r) => r.type);
}

describe('group commit', () => {
  it('writes 100 appends made together with one write and one fdatasync', async () => {
    const tap = new FileTap();
    const batches: number[] = [];
    const { h } = await open({ ...BIG, hooks: { onBatch: (n) => batches.push(n) } }, tap);
    const seqs = Array.from({ length: 100 }, () => place(h));
    await Promise.all(seqs.map((s) => h.wal.waitDurable(s)));
    expect(tap.stats.writes).toBe(1);
    expect(tap.stats.datasyncs).toBe(1);
    expect(batches).toEqual([100]);
    await h.wal.close();
  });

  it('batches concurrent clients: far fewer fdatasyncs than acknowledged records', async () => {
    const tap = new FileTap();
    const batches: number[] = [];
    const { dir, h } = await open({ ...BIG, hooks: { onBatch: (n) => batches.push(n) } }, tap);
    const acked: number[] = [];
    // 100 clients, each placing 5 orders one after the other, waiting for each to be durable.
    const client = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) {
        const seq = place(h);
        await h.wal.waitDurable(seq);
        acked.push(seq);
      }
    };
    await Promise.all(Array.from({ length: 100 }, client));
    expect(acked).toHaveLength(500);
    expect(tap.stats.datasyncs).toBeLessThanOrEqual(50);
    expect(tap.stats.datasyncs).toBe(batches.length);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(500);
    await h.wal.close();
    const { recovered } = await recoverState(dir);
    expect(recovered.lastSequence).toBe(500);
  });

  it('does not fdatasync per batch when sync is off (only on close)', async () => {
    const tap = new FileTap();
    const { h } = await open({ ...BIG, sync: false }, tap);
    for (let i = 0; i < 10; i++) await h.wal.waitDurable(place(h));
    expect(tap.stats.writes).toBe(10);
    expect(tap.stats.datasyncs).toBe(0);
    await h.wal.close();
    expect(tap.stats.datasyncs).toBe(1);
  });
});

describe('waitDurable', () => {
  it('resolves only once the record is written and covered by an fdatasync', async () => {
    const tap = new FileTap();
    // Slow syncs, so that appends pile up behind them and batches overlap with waiting.
    tap.beforeDatasync = () => new Promise((r) => setTimeout(r, 3));
    const { dir, h } = await open(BIG, tap);
    const path = join(dir, CURRENT_SEGMENT);
    const violations: string[] = [];
    const resolved: number[] = [];
    const pending: Array<Promise<void>> = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 10; i++) {
        const seq = place(h);
        pending.push(
          h.wal.waitDurable(seq).then(async () => {
            resolved.push(seq);
            const rec = recordsIn(await readFile(path)).find((r) => r.seq === seq);
            if (!rec) violations.push(`${seq} not in the file`);
            else if ((tap.synced.get(path) ?? 0) < rec.offset + rec.size)
              violations.push(`${seq} not synced`);
          }),
        );
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(pending);
    expect(violations).toEqual([]);
    // Acknowledgements come in sequence order.
    expect(resolved).toEqual([...resolved].sort((a, b) => a - b));
    expect(tap.stats.datasyncs).toBeLessThan(50);
    await h.wal.close();
  });

  it('resolves at once for records that are already durable, and flush() waits for everything', async () => {
    const { h } = await open(BIG);
    const a = place(h);
    await h.wal.flush();
    expect(h.wal.durableSequence).toBe(a);
    await expect(h.wal.waitDurable(a)).resolves.toBeUndefined();
    await expect(h.wal.waitDurable(0)).resolves.toBeUndefined();
    const b = place(h);
    expect(h.wal.durableSequence).toBe(a);
    await h.wal.flush();
    expect(h.wal.durableSequence).toBe(b);
    await h.wal.close();
  });
});

describe('a write failure (disk full)', () => {
  it.each([
    { name: 'ENOSPC after a short write', fault: 'write' as const },
    { name: 'ENOSPC on the first byte', fault: 'write-first' as const },
    { name: 'EIO on fdatasync', fault: 'datasync' as const },
  ])(
    '$name: waiters and later appends get WalUnavailableError; what was acknowledged survives',
    async ({ fault }) => {
      const tap = new FileTap();
      const { dir, h } = await open(BIG, tap);
      const acked: number[] = [];
      for (let i = 0; i < 20; i++) {
        const seq = place(h);
        await h.wal.waitDurable(seq);
        acked.push(seq);
      }
      const ackedState = normalizedSnapshot(h.state);

      let shortWriteDone = false;
      if (fault === 'write') {
        tap.beforeWrite = (len) => {
          if (!shortWriteDone) {
            shortWriteDone = true;
            // Not on a record boundary: the last record on disk is torn.
            return Math.floor(len / 2) + 3;
          }
          throw enospc();
        };
      } else if (fault === 'write-first') {
        tap.beforeWrite = () => {
          throw enospc();
        };
      } else {
        tap.beforeDatasync = () => {
          throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
        };
      }
      const doomed = Array.from({ length: 10 }, () => place(h));
      const outcomes = await Promise.allSettled(doomed.map((s) => h.wal.waitDurable(s)));
      for (const o of outcomes) {
        expect(o.status).toBe('rejected');
        if (o.status === 'rejected') {
          expect(o.reason).toBeInstanceOf(WalUnavailableError);
          expect((o.reason as WalUnavailableError).message).toMatch(fault === 'datasync' ? /EIO/ : /ENOSPC/);
        }
      }
      expect(h.wal.failed).toBeInstanceOf(WalUnavailableError);
      expect(h.wal.durableSequence).toBe(acked.at(-1));
      expect(() => place(h)).toThrow(WalUnavailableError);
      await expect(h.wal.flush()).rejects.toBeInstanceOf(WalUnavailableError);
      await expect(h.wal.waitDurable(acked.at(-1)!)).resolves.toBeUndefined();
      await h.wal.close();

      // The disk has room again: everything acknowledged is recovered, and the log goes on.
      const { h: again, recovered } = await open(BIG, undefined, dir);
      expect(recovered.lastSequence).toBeGreaterThanOrEqual(acked.at(-1)!);
      for (const seq of acked) expect(again.state.orders.get(seq)?.lastSequence).toBe(seq);
      // Records of the failed batch were never acknowledged; those that reached the disk whole
      // (half a batch after a short write, all of it when only the sync failed) may come back,
      // like an uncertain commit. Nothing else does.
      expect(recovered.lastSequence).toBeLessThanOrEqual(doomed.at(-1)!);
      if (fault === 'write-first') {
        expect(recovered.lastSequence).toBe(acked.at(-1));
        expect(normalizedSnapshot(again.state)).toEqual(ackedState);
      }
      if (fault === 'write') expect(recovered.report.tornTailBytes).toBeGreaterThan(0);
      const next = place(again);
      await again.wal.close();
      expect(next).toBe(recovered.lastSequence + 1);
      expect((await verifyWal(dir)).healthy).toBe(true);
    },
  );

  it('while sealing a segment (no new current file): the rotation is completed on recovery', async () => {
    const tap = new FileTap();
    const opts: Opts = { maxSegmentBytes: 2048, maxFiles: 10, sync: true, checkpointInterval: 0 };
    const { dir, h } = await open(opts, tap);
    const acked: number[] = [];
    tap.beforeOpen = (_path, flags) => {
      if (flags === 'wx+')
        throw Object.assign(new Error('EMFILE: too many open files, open'), { code: 'EMFILE' });
    };
    let failure: unknown = null;
    for (let i = 0; i < 100 && !failure; i++) {
      const seq = place(h);
      try {
        await h.wal.waitDurable(seq);
        acked.push(seq);
      } catch (e) {
        failure = e;
      }
    }
    expect(failure).toBeInstanceOf(WalUnavailableError);
    expect(await readdir(dir)).not.toContain(CURRENT_SEGMENT);
    await tap.closeAll();

    const { h: again, recovered } = await open(opts, undefined, dir);
    expect(recovered.needsCheckpoint).toBe(true);
    for (const seq of acked) expect(again.state.orders.get(seq)).toBeDefined();
    const next = place(again);
    await again.wal.close();
    // The new segment starts with a checkpoint, then the order.
    expect(await segmentTypes(dir, CURRENT_SEGMENT)).toEqual([RecordType.Checkpoint, RecordType.OrderNew]);
    expect(next).toBe(recovered.lastSequence + 2);
    expect((await verifyWal(dir)).healthy).toBe(true);
  });
});

describe('checkpoints', () => {
  it.each([
    { interval: 0, types: 'NNNNNNN' },
    { interval: 1, types: 'NCNCNCNCNCNCN' },
    { interval: 3, types: 'NNNCNNNCN' },
  ])('every $interval order records', async ({ interval, types }) => {
    const { dir, h } = await open({ ...BIG, checkpointInterval: interval });
    const orders = types.replace(/C/g, '').length;
    for (let i = 0; i < orders; i++) place(h);
    await h.wal.close();
    const got = (await segmentTypes(dir, CURRENT_SEGMENT)).map((t) =>
      t === RecordType.Checkpoint ? 'C' : 'N',
    );
    expect(got.join('')).toBe(types);
  });

  it('describe the state before the record that follows them', async () => {
    const { dir, h } = await open({ ...BIG, checkpointInterval: 2 });
    for (let i = 0; i < 5; i++) place(h);
    await h.wal.close();
    const recs = recordsIn(await readFile(join(dir, CURRENT_SEGMENT)));
    for (const r of recs.filter((x) => x.type === RecordType.Checkpoint)) {
      const s = JSON.parse(r.payload.toString()) as { lastSequence: number; nextOrderId: number };
      expect(s.lastSequence).toBe(r.seq - 1);
      expect(s.nextOrderId).toBe(
        recs.filter((x) => x.type === RecordType.OrderNew && x.seq < r.seq).length + 1,
      );
    }
  });

  it('can be forced (before a backup) and is replayed from', async () => {
    const { dir, h } = await open(BIG);
    place(h);
    place(h);
    const cp = h.wal.forceCheckpoint();
    await h.wal.waitDurable(cp);
    place(h);
    await h.wal.close();
    expect(await segmentTypes(dir, CURRENT_SEGMENT)).toEqual([
      RecordType.OrderNew,
      RecordType.OrderNew,
      RecordType.Checkpoint,
      RecordType.OrderNew,
    ]);
    const { state, recovered } = await recoverState(dir);
    expect(recovered.report.checkpointSequence).toBe(cp);
    // Only the checkpoint and what follows it are replayed.
    expect(recovered.replayedEntries).toBe(2);
    expect(normalizedSnapshot(state)).toEqual(normalizedSnapshot(h.state));
  });
});

describe('rotation and retention', () => {
  it('keeps sealed segments within maxSegmentBytes, each ending with a rotation and the next starting with a checkpoint', async () => {
    const rotations: string[] = [];
    const opts: Opts = { maxSegmentBytes: 1024, maxFiles: 1000, sync: false, checkpointInterval: 0 };
    const { dir, h } = await open(
      { ...opts, hooks: { onRotation: (n) => rotations.push(n) } },
      undefined,
      undefined,
      0,
    );
    for (let i = 0; i < 120; i++) placeAndCancel(h);
    await h.wal.close();
    const sealed = (await readdir(dir)).filter((n) => SEALED_SEGMENT.test(n)).sort();
    expect(sealed.length).toBeGreaterThan(5);
    expect(rotations).toEqual(sealed);
    for (const [i, name] of sealed.entries()) {
      const buf = await readFile(join(dir, name));
      expect(buf.length).toBeLessThanOrEqual(opts.maxSegmentBytes);
      const types = recordsIn(buf).map((r) => r.type);
      expect(types.at(-1)).toBe(RecordType.Rotation);
      if (i > 0) expect(types[0]).toBe(RecordType.Checkpoint);
    }
  });

  it('does not rotate on every append when the checkpoint alone exceeds maxSegmentBytes', async () => {
    let rotations = 0;
    const { dir, h } = await open({
      maxSegmentBytes: 512,
      maxFiles: 1000,
      sync: false,
      checkpointInterval: 0,
      hooks: { onRotation: () => (rotations += 1) },
    });
    // Open orders keep the checkpoint growing past 512 bytes.
    for (let i = 0; i < 200; i++) place(h);
    await h.wal.close();
    expect(recordsIn(await readFile(join(dir, CURRENT_SEGMENT)))[0]!.payload.length).toBeGreaterThan(512);
    expect(rotations).toBeLessThan(40);
    const { state } = await recoverState(dir);
    expect(normalizedSnapshot(state)).toEqual(normalizedSnapshot(h.state));
  });

  it.each([
    { maxFiles: 1, kept: 1 },
    { maxFiles: 3, kept: 3 },
    // 0 would delete the only segment holding the state before the new checkpoint is durable.
    { maxFiles: 0, kept: 1 },
  ])(
    'keeps $kept sealed segments for maxFiles=$maxFiles, and recovery still has everything',
    async ({ maxFiles, kept }) => {
      const deleted: string[] = [];
      const opts: Opts = { maxSegmentBytes: 1024, maxFiles, sync: false, checkpointInterval: 0 };
      const { dir, h } = await open(
        { ...opts, hooks: { onRetentionDelete: (n) => deleted.push(n) } },
        undefined,
        undefined,
        0,
      );
      for (let i = 0; i < 80; i++) placeAndCancel(h);
      await h.wal.close();
      const sealed = (await readdir(dir)).filter((n) => SEALED_SEGMENT.test(n)).sort();
      expect(sealed).toHaveLength(kept);
      expect(deleted.length).toBeGreaterThan(0);
      expect(deleted.every((d) => d < sealed[0]!)).toBe(true);
      const { state, recovered } = await recoverState(dir, 'strict', 0);
      expect(recovered.lastSequence).toBe(h.wal.lastSequence);
      expect(normalizedSnapshot(state)).toEqual(normalizedSnapshot(h.state));
    },
  );

  it('is not taken down by a sealed segment that is already gone', async () => {
    const deleted: string[] = [];
    const opts: Opts = {
      maxSegmentBytes: 1024,
      maxFiles: 2,
      sync: false,
      checkpointInterval: 0,
      hooks: { onRetentionDelete: (n) => deleted.push(n) },
    };
    const { dir, h } = await open(opts, undefined, undefined, 0);
    const sealed = async (): Promise<string[]> =>
      (await readdir(dir)).filter((n) => SEALED_SEGMENT.test(n)).sort();
    while ((await sealed()).length < 2) {
      placeAndCancel(h);
      await h.wal.flush();
    }
    const [oldest] = await sealed();
    await rm(join(dir, oldest!));
    while (!deleted.includes(oldest!)) {
      placeAndCancel(h);
      await h.wal.flush();
    }
    expect(h.wal.failed).toBeNull();
    placeAndCancel(h);
    await h.wal.close();
    expect((await recoverState(dir, 'strict', 0)).recovered.lastSequence).toBe(h.wal.lastSequence);
  });
});

describe('lifecycle', () => {
  it('continues the sequence after a reopen and refuses appends after close', async () => {
    const { dir, h } = await open(BIG);
    place(h);
    place(h);
    await h.wal.close();
    await h.wal.close();
    expect(() => place(h)).toThrow(/closed/);
    const { h: again, recovered } = await open(BIG, undefined, dir);
    expect(recovered.lastSequence).toBe(2);
    expect(place(again)).toBe(3);
    await again.wal.close();
  });

  it('writes the timestamp it is given', async () => {
    const { dir, h } = await open(BIG);
    const seq = h.wal.append(RecordType.OrderCancel, Buffer.alloc(0), 1_234_567);
    await h.wal.close();
    expect(recordsIn(await readFile(join(dir, CURRENT_SEGMENT))).find((r) => r.seq === seq)?.timestamp).toBe(
      1_234_567,
    );
  });
});
