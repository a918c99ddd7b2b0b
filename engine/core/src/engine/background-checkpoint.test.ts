// Checkpoints built off the order path (ADR 0019), on a real disk: records keep being appended
// while a checkpoint is serialized in slices, and the log replays to the live state whatever the
// interleaving -- and at every point a crash could cut it: before the checkpoint record, right
// after it, and anywhere else.
import { copyFile, mkdir, open, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordType, isCheckpoint, type RawRecord } from '@veloz/wal/format';
import { decodeOrderRecord } from '@veloz/wal/payloads';
import { CURRENT_SEGMENT, SNAPSHOT_FILE } from '@veloz/wal/segments';
import { decodeCheckpointRef } from '@veloz/wal/snapshot-file';
import {
  FileTap,
  Harness,
  TempDirs,
  enospc,
  normalizedSnapshot,
  opArb,
  recordsIn,
  recoverState,
  toRecord,
  type Op,
} from '@veloz/testing/wal-testkit';
import { backgroundCheckpoints } from './background-checkpoint.ts';
import { EngineState } from './state.ts';

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

/**
 * Runs `ops` with background checkpoints every `interval` records, a slice of one order per turn,
 * and `perSlice` more operations committed between slices (the order path going on meanwhile).
 */
async function run(
  ops: Op[],
  interval: number,
  perSlice: number,
  turnsPerFlush: number | 'settle' = 5,
): Promise<{ dir: string; live: unknown }> {
  const dir = await dirs.make();
  const { h } = await Harness.open({
    dir,
    maxSegmentBytes: 1 << 30,
    maxFiles: 3,
    sync: false,
    checkpointInterval: interval,
  });
  let next = 0;
  const commitNext = (): void => {
    while (next < ops.length) {
      const op = ops[next++]!;
      if (op.k === 'checkpoint') {
        h.wal.forceCheckpoint();
        return;
      }
      const rec = op.k === 'flush' ? null : toRecord(h.state, op);
      if (rec) {
        h.commit(rec);
        return;
      }
    }
  };
  h.wal.setBackgroundCheckpoint(
    backgroundCheckpoints(h.state, h.wal, {
      sliceOrders: 1,
      betweenSlices: () => {
        for (let i = 0; i < perSlice; i++) commitNext();
      },
      onError: (err) => {
        throw err;
      },
    }),
  );
  while (next < ops.length) {
    if (ops[next]!.k === 'flush') {
      next += 1;
      await h.wal.flush();
      // Let builds run their slices (and commit between them) before going on.
      if (turnsPerFlush === 'settle') {
        // Until the build has written its file and appended its reference.
        while (h.wal.checkpointInProgress) await new Promise((r) => setTimeout(r, 2));
      } else for (let i = 0; i < turnsPerFlush; i++) await new Promise((r) => setImmediate(r));
    } else commitNext();
  }
  await h.wal.flush();
  const live = normalizedSnapshot(h.state);
  await h.wal.close();
  return { dir, live };
}

async function records(dir: string): Promise<RawRecord[]> {
  return recordsIn(await readFile(join(dir, CURRENT_SEGMENT)));
}

/** The state after every order record up to `seq`, by plain replay (no checkpoint involved). */
function replayTo(all: RawRecord[], seq: number): unknown {
  const s = new EngineState(1000);
  for (const r of all) {
    if (r.seq > seq) break;
    if (isCheckpoint(r.type) || r.type === RecordType.Rotation) continue;
    const rec = decodeOrderRecord(r.type, r.payload);
    s.check(rec);
    s.apply(rec, r.seq, r.timestamp);
  }
  return normalizedSnapshot(s);
}

/**
 * A copy of `dir` cut after `end` bytes of its segment, as a crash may leave it (no mark: none
 * vouches for more), with every checkpoint file: a file is written before the record naming it.
 */
async function cutCopy(dir: string, end: number): Promise<string> {
  const copy = await dirs.make('veloz-ckpt-cut-');
  await mkdir(copy, { recursive: true });
  await copyFile(join(dir, CURRENT_SEGMENT), join(copy, CURRENT_SEGMENT));
  for (const f of await readdir(dir)) if (SNAPSHOT_FILE.test(f)) await copyFile(join(dir, f), join(copy, f));
  const fh = await open(join(copy, CURRENT_SEGMENT), 'r+');
  await fh.truncate(end);
  await fh.close();
  return copy;
}

const opsArb = fc.array(opArb, { minLength: 20, maxLength: 160 });

describe('background checkpoints', () => {
  it('replay to the live state whatever the records appended while one is built', async () => {
    await fc.assert(
      fc.asyncProperty(
        opsArb,
        fc.integer({ min: 1, max: 12 }),
        fc.nat(3),
        async (ops, interval, perSlice) => {
          const { dir, live } = await run(ops, interval, perSlice);
          const { state } = await recoverState(dir);
          expect(normalizedSnapshot(state)).toEqual(live);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('carries the records appended during the build as its tail, and recovers at every cut around a checkpoint', async () => {
    const ops: Op[] = [];
    for (let i = 0; i < 400; i++) {
      ops.push({
        k: 'new',
        side: i % 2,
        type: 0,
        price: 100 + i,
        qty: 10,
        strategy: i % 3,
        reuseClientId: false,
      });
      if (i % 3 === 0) ops.push({ k: 'fill', pick: i, percent: 30, price: 100 });
      if (i % 5 === 0) ops.push({ k: 'cancel', pick: i * 7 });
      if (i % 10 === 0) ops.push({ k: 'flush' });
    }
    const { dir, live } = await run(ops, 10, 2);
    const all = await records(dir);
    const checkpoints = all.filter((r) => isCheckpoint(r.type));
    const refs = all.filter((r) => r.type === RecordType.CheckpointRef);
    const withTail = refs.filter((r) => 'tail' in decodeCheckpointRef(r.payload).fields);
    expect(withTail.length).toBeGreaterThan(1);
    // The order path did not wait for them: each was appended well after the record that asked
    // for it, and its state is in its own file, captured at the record before its tail.
    for (const c of withTail) {
      const ref = decodeCheckpointRef(c.payload);
      const tail = ref.fields['tail'] as Array<[number]>;
      const s = JSON.parse(await readFile(join(dir, ref.file), 'utf8')) as { lastSequence: number };
      // (The capture's sequence may be past lastSequence: a checkpoint record is not applied.)
      expect(s.lastSequence).toBeLessThanOrEqual(ref.sequence);
      expect(tail[0]![0]).toBe(ref.sequence + 1);
      expect(tail.at(-1)![0]).toBe(c.seq - 1);
    }
    expect(normalizedSnapshot((await recoverState(dir)).state)).toEqual(live);
    // A crash before the checkpoint record is durable, or right after it: nothing durable is lost.
    for (const c of checkpoints) {
      for (const end of [
        c.offset,
        c.offset + c.size,
        c.offset + c.size + (all.find((r) => r.seq === c.seq + 1)?.size ?? 0),
      ]) {
        const cut = await cutCopy(dir, end);
        const { state, recovered } = await recoverState(cut);
        expect(normalizedSnapshot(state)).toEqual(replayTo(all, recovered.lastSequence));
      }
    }
    // Each file a reference names, and no other (a build an inline checkpoint overtook deletes its own).
    const files = refs.map((r) => decodeCheckpointRef(r.payload).file);
    expect((await readdir(dir)).sort()).toEqual([...files, CURRENT_SEGMENT, 'wal.json'].sort());
  });

  it('waits until the log since the last checkpoint holds as many bytes as it before building another', async () => {
    const ops: Op[] = [];
    for (let i = 0; i < 600; i++) {
      ops.push({ k: 'new', side: 0, type: 0, price: 100, qty: 10, strategy: 0, reuseClientId: false });
      if (i % 50 === 0) ops.push({ k: 'flush' });
    }
    // Nothing committed between slices, and every build finished at each flush: the same
    // checkpoints whatever the machine's speed.
    const { dir, live } = await run(ops, 10, 0, 'settle');
    const all = await records(dir);
    const checkpoints = all
      .filter((r) => r.type === RecordType.CheckpointRef)
      .map((r) => decodeCheckpointRef(r.payload));
    // Every 10 orders by count alone: 60. The state grows by an order per record, so each
    // checkpoint is larger than the records since the one before by far sooner than that.
    expect(checkpoints.length).toBeGreaterThanOrEqual(2);
    expect(checkpoints.length).toBeLessThan(10);
    // Counted from one capture to the next: the records a restart would replay after the first.
    for (let i = 1; i < checkpoints.length; i++) {
      const from = checkpoints[i - 1]!.sequence;
      const to = checkpoints[i]!.sequence;
      const logged = all
        .filter((r) => !isCheckpoint(r.type) && r.seq > from && r.seq <= to)
        .reduce((n, r) => n + r.size, 0);
      expect(logged).toBeGreaterThanOrEqual(checkpoints[i - 1]!.size);
    }
    expect(normalizedSnapshot((await recoverState(dir)).state)).toEqual(live);
  });

  it('drops a build that an inline checkpoint (a backup, a rotation) overtook', async () => {
    const ops: Op[] = [];
    for (let i = 0; i < 30; i++) {
      ops.push({ k: 'new', side: 0, type: 0, price: 100, qty: 10, strategy: 0, reuseClientId: false });
      if (i % 4 === 0) ops.push({ k: 'checkpoint' });
    }
    ops.push({ k: 'flush' });
    const { dir, live } = await run(ops, 3, 1);
    expect(normalizedSnapshot((await recoverState(dir)).state)).toEqual(live);
  });

  it('gives up a build when the WAL fails or the build throws, and builds again afterwards', async () => {
    const dir = await dirs.make();
    const tap = new FileTap();
    const { h } = await Harness.open({
      dir,
      maxSegmentBytes: 1 << 30,
      maxFiles: 3,
      sync: true,
      checkpointInterval: 5,
      openFile: tap.openFile,
      retry: { initialMs: 5, maxMs: 20 },
    });
    const errors: unknown[] = [];
    let throwOnce = false;
    h.wal.setBackgroundCheckpoint(
      backgroundCheckpoints(h.state, h.wal, {
        sliceOrders: 1,
        betweenSlices: () => {
          if (!throwOnce) return;
          throwOnce = false;
          throw new Error('injected');
        },
        onError: (err) => errors.push(err),
      }),
    );
    const turns = async (n: number) => {
      for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
    };
    const place = (i: number) =>
      h.commit({
        type: RecordType.OrderNew,
        data: {
          orderId: h.state.nextOrderId,
          clientOrderId: `o-${i}`,
          symbol: 'BTCUSDT',
          side: 'BUY',
          type: 'LIMIT',
          timeInForce: 'GTC',
          price: 100,
          quantity: 1,
          strategy: '',
        },
      });
    const checkpointSeqs = async () =>
      (await records(dir)).filter((r) => isCheckpoint(r.type)).map((r) => r.seq);
    let i = 0;
    for (; i < 12; i++) place(i);
    await h.wal.flush();
    // The build that starts now outlives the WAL: the write of the records after it fails.
    tap.beforeWrite = () => {
      throw enospc();
    };
    for (; i < 20; i++) place(i);
    await expect(h.wal.flush()).rejects.toThrow(/no space left/);
    await turns(40);
    tap.beforeWrite = null;
    await expect.poll(() => h.wal.failed, { timeout: 10_000 }).toBeNull();
    const afterFailure = h.wal.lastSequence;
    // Then one that throws, then one that is appended.
    throwOnce = true;
    for (let round = 0; round < 30 && !(await checkpointSeqs()).some((s) => s > afterFailure); round++) {
      for (let k = 0; k < 60; k++) place(i++);
      await h.wal.flush();
      await turns(400);
      await h.wal.flush();
    }
    expect(errors).toHaveLength(1);
    expect((await checkpointSeqs()).some((s) => s > afterFailure)).toBe(true);
    const live = normalizedSnapshot(h.state);
    await h.wal.close();
    await tap.closeAll();
    expect(normalizedSnapshot((await recoverState(dir)).state)).toEqual(live);
  });
});
