import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordType } from './framing.ts';
import { CURRENT_SEGMENT } from './segments.ts';
import { newOrderRecord } from '@veloz/testing/orders';
import { Harness, TempDirs, normalizedSnapshot, recoverState } from '@veloz/testing/wal-testkit';
import type { WalSnapshot } from './writer.ts';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

function placeAndCancel(h: Harness): number {
  const id = h.state.nextOrderId;
  h.commit(newOrderRecord(id));
  return h.commit({ type: RecordType.OrderCancel, data: { orderId: id, reason: '' } });
}

/** Copies what a snapshot describes into a fresh directory, as a backup would. */
async function materialise(snap: WalSnapshot): Promise<string> {
  const out = await dirs.make('veloz-snap-');
  await mkdir(out, { recursive: true });
  for (const f of snap.files) {
    const buf = Buffer.alloc(f.size);
    if (f.size > 0) await f.handle.read(buf, 0, f.size, 0);
    await writeFile(join(out, f.name), buf);
  }
  await snap.close();
  return out;
}

describe('WalWriter.snapshot', () => {
  it('captures sealed segments and the durable part of the current one, unaffected by later rotation and retention', async () => {
    const dir = await dirs.make();
    const { h } = await Harness.open(
      { dir, maxSegmentBytes: 4096, maxFiles: 2, sync: false, checkpointInterval: 0 },
      0,
    );
    for (let i = 0; i < 60; i++) placeAndCancel(h);
    const pending = h.wal.snapshot({ checkpoint: true });
    const expected = normalizedSnapshot(h.state);
    const snap = await pending;
    expect(snap.sequence).toBe(h.wal.lastSequence);
    expect(snap.files.at(-1)!.name).toBe(CURRENT_SEGMENT);
    expect(snap.files.length).toBeGreaterThan(1);
    // Rotations and retention deletes after the barrier must not change what the snapshot reads.
    for (let i = 0; i < 200; i++) placeAndCancel(h);
    await h.wal.flush();
    const copy = await materialise(snap);
    const { state, recovered } = await recoverState(copy, 'strict', 0);
    expect(recovered.report.problems).toEqual([]);
    expect(recovered.lastSequence).toBe(snap.sequence);
    expect(normalizedSnapshot(state)).toEqual(expected);
    await h.wal.close();
  });

  it('orders barriers with appends: records appended before the call are in it, later ones are not', async () => {
    const dir = await dirs.make();
    const { h } = await Harness.open(
      { dir, maxSegmentBytes: 1 << 20, maxFiles: 10, sync: true, checkpointInterval: 0 },
      1000,
    );
    const before = placeAndCancel(h);
    const pending = h.wal.snapshot();
    const after = placeAndCancel(h);
    const snap = await pending;
    expect(snap.sequence).toBe(before);
    expect(after).toBeGreaterThan(before);
    await snap.close();
    await h.wal.close();
  });

  it('is refused once the WAL is closed', async () => {
    const dir = await dirs.make();
    const { h } = await Harness.open(
      { dir, maxSegmentBytes: 1 << 20, maxFiles: 10, sync: false, checkpointInterval: 0 },
      1000,
    );
    await h.wal.close();
    await expect(h.wal.snapshot()).rejects.toThrow(/closed/);
  });
});
