// Rotations and requested checkpoints off the order path (ADR 0019, third step): the inline
// snapshot provider throws in these tests, so any checkpoint serialized in an append's turn fails
// them. A full segment keeps growing until a background build is done; that build seals it and
// its CheckpointRef starts the new segment, so every segment still begins with a checkpoint.
import { cpSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordType, isCheckpoint, type RawRecord } from '@veloz/wal/format';
import { encodeTradingHalt } from '@veloz/wal/payloads';
import { verifyWal } from '@veloz/wal/recovery';
import { listSegments } from '@veloz/wal/segments';
import { decodeCheckpointRef } from '@veloz/wal/snapshot-file';
import { WalWriter } from '@veloz/wal/writer';
import { Harness, TempDirs, normalizedSnapshot, recordsIn, recoverState } from '@veloz/testing/wal-testkit';
import { backgroundCheckpoints, type BackgroundCheckpointOptions } from './background-checkpoint.ts';

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

const noInline = (): Buffer => {
  throw new Error('a checkpoint was serialized inline, on the order path');
};

const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/**
 * Places an order at `i`'s price and cancels nine in ten, as the engine would: finished orders
 * leave the state after the history limit, so it (and each checkpoint) stays small.
 */
function place(h: Harness, i: number): void {
  const orderId = h.state.nextOrderId;
  h.commit({
    type: RecordType.OrderNew,
    data: {
      orderId,
      clientOrderId: `o-${i}`,
      symbol: 'BTCUSDT',
      side: i % 2 ? 'BUY' : 'SELL',
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: 100 + (i % 50),
      quantity: 1 + (i % 7),
      strategy: '',
    },
  });
  if (i % 10 !== 0) h.commit({ type: RecordType.OrderCancel, data: { orderId, reason: 'test' } });
}

async function open(
  dir: string,
  opts: Partial<Parameters<typeof Harness.open>[0]> = {},
  build: BackgroundCheckpointOptions = {},
): Promise<Harness> {
  const { h } = await Harness.open({
    dir,
    maxSegmentBytes: 16 * 1024,
    maxFiles: 3,
    sync: false,
    checkpointInterval: 0,
    ...opts,
  });
  h.wal.setSnapshotProvider(noInline);
  h.wal.setBackgroundCheckpoint(
    backgroundCheckpoints(h.state, h.wal, {
      sliceOrders: 8,
      onError: (err) => {
        throw err;
      },
      ...build,
    }),
  );
  return h;
}

/** Every kept segment's records, in log order. */
async function segments(dir: string): Promise<Array<{ name: string; records: RawRecord[] }>> {
  const out = [];
  for (const s of (await listSegments(dir)).segments)
    out.push({ name: s.name, records: recordsIn(await readFile(join(dir, s.name))) });
  return out;
}

describe('rotation off the order path', () => {
  it('starts each new segment with the reference of a checkpoint built in the background', async () => {
    const dir = await dirs.make();
    let rotations = 0;
    const h = await open(dir, { hooks: { onRotation: () => (rotations += 1) } });
    let i = 0;
    while (rotations < 5 && i < 20_000) {
      for (let k = 0; k < 20; k++) place(h, i++);
      await h.wal.flush();
      await turns(3);
    }
    expect(rotations).toBeGreaterThanOrEqual(5);
    while (h.wal.checkpointInProgress) await turns(1);
    const live = normalizedSnapshot(h.state);
    await h.wal.close();

    const segs = await segments(dir);
    expect(segs.length).toBe(4);
    for (const s of segs) {
      const [first, second] = s.records;
      // Sealed with the rotation record right before the reference.
      expect(first!.type, s.name).toBe(RecordType.CheckpointRef);
      const ref = decodeCheckpointRef(first!.payload);
      const tail = (ref.fields['tail'] ?? []) as Array<[number]>;
      // The tail reaches the record before the rotation record, without a gap.
      if (tail.length > 0) {
        expect(tail[0]![0]).toBe(ref.sequence + 1);
        expect(tail.at(-1)![0]).toBe(first!.seq - 2);
        tail.forEach(([seq], k) => expect(seq).toBe(tail[0]![0] + k));
      }
      expect(second?.type).not.toBe(RecordType.Checkpoint);
    }
    // None inline at all.
    expect(segs.flatMap((s) => s.records).filter((r) => r.type === RecordType.Checkpoint)).toEqual([]);
    const report = await verifyWal(dir);
    expect(report.problems).toEqual([]);
    expect(report.strayFiles).toEqual([]);
    expect(normalizedSnapshot((await recoverState(dir)).state)).toEqual(live);
  });

  it('lets the segment grow while the build runs, then rotates once', async () => {
    const dir = await dirs.make();
    let rotations = 0;
    const h = await open(dir, { hooks: { onRotation: () => (rotations += 1) } }, { sliceOrders: 1 });
    let appendedDuringBuild = 0;
    let built = false;
    for (let i = 0; rotations < 1 && i < 20_000; i++) {
      place(h, i);
      // Until the first build is done (the seal that follows takes a few turns more, and the
      // records meanwhile may fill the new segment and start the next build).
      if (h.wal.checkpointInProgress && !built) appendedDuringBuild += 1;
      else if (appendedDuringBuild > 0) built = true;
      // One slice per turn: orders arrive between slices, as on the engine.
      await turns(1);
    }
    expect(rotations).toBe(1);
    expect(appendedDuringBuild).toBeGreaterThan(10);
    await h.wal.flush();
    const live = normalizedSnapshot(h.state);
    await h.wal.close();
    const [sealed, current] = await segments(dir);
    expect(sealed!.records.at(-1)!.type).toBe(RecordType.Rotation);
    expect(sealed!.records.reduce((n, r) => n + r.size, 0)).toBeGreaterThan(16 * 1024);
    // The orders appended during the build ride in the reference that starts the next segment.
    const ref = decodeCheckpointRef(current!.records[0]!.payload);
    expect((ref.fields['tail'] as unknown[]).length).toBeGreaterThanOrEqual(appendedDuringBuild);
    expect(normalizedSnapshot((await recoverState(dir)).state)).toEqual(live);
  });

  it('answers a requested checkpoint and a backup snapshot with a reference, orders going on meanwhile', async () => {
    const dir = await dirs.make();
    const h = await open(dir, { maxSegmentBytes: 1 << 30 }, { sliceOrders: 2 });
    for (let i = 0; i < 200; i++) place(h, i);
    const asked = h.wal.lastSequence;
    const pending = h.wal.requestCheckpoint();
    // Joined by a second request while it is built.
    const again = h.wal.requestCheckpoint();
    for (let i = 200; i < 220; i++) place(h, i);
    const seq = await pending;
    expect(await again).toBe(seq);
    expect(seq).toBeGreaterThan(asked);
    await h.wal.waitDurable(seq);
    const snap = await h.wal.snapshot({ checkpoint: true });
    expect(snap.sequence).toBeGreaterThan(seq);
    expect(snap.files.filter((f) => f.checkpointId !== undefined)).toHaveLength(2);
    await snap.close();
    const refs = (await segments(dir))[0]!.records.filter((r) => isCheckpoint(r.type));
    expect(refs.map((r) => r.type)).toEqual([RecordType.CheckpointRef, RecordType.CheckpointRef]);
    const live = normalizedSnapshot(h.state);
    await h.wal.close();
    await expect(h.wal.requestCheckpoint()).rejects.toThrow(/closed/);
    expect(normalizedSnapshot((await recoverState(dir)).state)).toEqual(live);
  });

  it('falls back to an inline checkpoint for a rotation whose build failed', async () => {
    const dir = await dirs.make();
    const errors: unknown[] = [];
    let failNext = true;
    let rotations = 0;
    const h = await open(
      dir,
      { hooks: { onRotation: () => (rotations += 1) } },
      {
        sliceOrders: 1,
        betweenSlices: () => {
          if (!failNext) return;
          failNext = false;
          throw new Error('injected');
        },
        onError: (err) => errors.push(err),
      },
    );
    const snapshots: number[] = [];
    h.wal.setSnapshotProvider(() => {
      snapshots.push(h.wal.lastSequence);
      return h.state.snapshot();
    });
    let i = 0;
    while (rotations < 2 && i < 20_000) {
      for (let k = 0; k < 20; k++) place(h, i++);
      await h.wal.flush();
      await turns(3);
    }
    expect(errors).toHaveLength(1);
    // Once, for the rotation that waited for the failed build; the next one is built again.
    expect(snapshots).toHaveLength(1);
    while (h.wal.checkpointInProgress) await turns(1);
    const live = normalizedSnapshot(h.state);
    await h.wal.close();
    const leading = (await segments(dir)).map((s) => s.records[0]!.type);
    expect(leading).toContain(RecordType.Checkpoint);
    expect(leading).toContain(RecordType.CheckpointRef);
    expect(normalizedSnapshot((await recoverState(dir)).state)).toEqual(live);
  });

  it('writes the checkpoint a restart owes before serving, not in the first order', async () => {
    const dir = await dirs.make();
    const crashed = await dirs.make('veloz-wal-sealed-');
    // A copy taken right after a seal, before anything reached the new segment: the state a
    // SIGKILL there leaves (the page cache survives it).
    let copied = false;
    const h = await open(dir, {
      hooks: {
        onCheckpointStep: (step) => {
          if (step !== 'segment-sealed' || copied) return;
          copied = true;
          cpSync(dir, crashed, { recursive: true });
        },
      },
    });
    for (let i = 0; !copied && i < 20_000; i++) {
      place(h, i);
      if (i % 20 === 0) {
        await h.wal.flush();
        await turns(3);
      }
    }
    expect(copied).toBe(true);
    await h.wal.flush();
    while (h.wal.checkpointInProgress) await turns(1);
    await h.wal.close();

    const { state, recovered } = await recoverState(crashed);
    expect(recovered.needsCheckpoint).toBe(true);
    const wal = await WalWriter.open(
      { dir: crashed, maxSegmentBytes: 16 * 1024, maxFiles: 3, sync: true, checkpointInterval: 0 },
      recovered,
    );
    wal.setSnapshotProvider(() => state.snapshot());
    await wal.writeOwedCheckpoint();
    expect(wal.durableSequence).toBe(recovered.lastSequence + 1);
    wal.setSnapshotProvider(noInline);
    // Nothing owed any more: the next append is just the record.
    wal.append(RecordType.TradingHalt, encodeTradingHalt({ halted: false, reason: '' }));
    await wal.writeOwedCheckpoint();
    await wal.close();
    const current = (await segments(crashed)).at(-1)!.records;
    expect(current.map((r) => r.type)).toEqual([RecordType.Checkpoint, RecordType.TradingHalt]);
  });
});
