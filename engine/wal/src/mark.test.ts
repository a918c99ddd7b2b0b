// Issue 16, item 5: acknowledged orders vanished with no refusal when orders_current.wal was cut
// at a record boundary, truncated to 0 or deleted, because nothing outside the segment said how
// far the log had been durable. The side file wal.json does; strict recovery refuses, naming the
// missing records, and verify reports them.
import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordType } from './framing.ts';
import { MARK_FORMAT, readMark, writeMark } from './mark.ts';
import { WalDataLossError, verifyWal } from './recovery.ts';
import { CURRENT_SEGMENT, MARK_FILE, listSegments } from './segments.ts';
import { FileTap, Harness, TempDirs, recordsIn, recoverState } from '@veloz/testing/wal-testkit';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const OPTS = {
  maxSegmentBytes: 16 * 1024,
  maxFiles: 100,
  sync: true,
  checkpointInterval: 50,
  markIntervalMs: 20,
};
const HISTORY = 1000;

function place(h: Harness, n: number): number {
  let seq = 0;
  for (let i = 0; i < n; i++) {
    const id = h.state.nextOrderId;
    seq = h.commit({
      type: RecordType.OrderNew,
      data: {
        orderId: id,
        clientOrderId: `acked-${id}`,
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        price: 100 + (i % 5),
        quantity: 1,
        strategy: '',
      },
    });
  }
  return seq;
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('timed out');
}

/**
 * 300 acknowledged orders, then a crash (the writer is dropped, not closed) once the mark has
 * caught up, as it does within markIntervalMs of the last batch.
 */
async function crashedLog(): Promise<{ dir: string; last: number }> {
  const dir = await dirs.make();
  const tap = new FileTap();
  const { h } = await Harness.open({ dir, ...OPTS, openFile: tap.openFile }, HISTORY);
  let last = 0;
  for (let i = 0; i < 30; i++) {
    last = place(h, 10);
    await h.wal.waitDurable(last);
  }
  await until(async () => (await readMark(dir))?.durableSequence === last);
  await tap.closeAll();
  return { dir, last };
}

async function refusal(dir: string): Promise<WalDataLossError> {
  const err = await recoverState(dir, 'strict', HISTORY).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WalDataLossError);
  return err as WalDataLossError;
}

describe('the high-water mark', () => {
  it('is written with a WAL id that stays the WAL’s own', async () => {
    const { dir, last } = await crashedLog();
    const mark = (await readMark(dir))!;
    expect(mark).toMatchObject({ format: MARK_FORMAT, durableSequence: last });
    expect(mark.walId).toMatch(/^[0-9a-f-]{36}$/);
    const { recovered } = await recoverState(dir, 'strict', HISTORY);
    expect(recovered.mark.walId).toBe(mark.walId);
    expect((await listSegments(dir)).stray).toEqual([]);
    expect((await verifyWal(dir)).healthy).toBe(true);
  });

  it('refuses a current segment cut at a record boundary', async () => {
    const { dir, last } = await crashedLog();
    const buf = await readFile(join(dir, CURRENT_SEGMENT));
    const recs = recordsIn(buf);
    const cut = recs.at(-15)!;
    await truncate(join(dir, CURRENT_SEGMENT), cut.offset);
    const err = await refusal(dir);
    expect(err.message).toContain(`records ${cut.seq} to ${last} are missing`);
    expect(err.message).toContain(MARK_FILE);
    const report = await verifyWal(dir);
    expect(report.healthy).toBe(false);
    expect(report.problems.join('\n')).toContain(`records ${cut.seq} to ${last} are missing`);
  });

  it('refuses a current segment truncated to 0', async () => {
    const { dir, last } = await crashedLog();
    await truncate(join(dir, CURRENT_SEGMENT), 0);
    const err = await refusal(dir);
    expect(err.message).toMatch(new RegExp(`records \\d+ to ${last} are missing`));
    expect((await verifyWal(dir)).healthy).toBe(false);
  });

  it('refuses a deleted current segment', async () => {
    const { dir, last } = await crashedLog();
    await rm(join(dir, CURRENT_SEGMENT));
    const err = await refusal(dir);
    expect(err.message).toMatch(new RegExp(`records \\d+ to ${last} are missing`));
  });

  it('lets truncate_at_corruption accept the loss, saying so, and strict starts after that', async () => {
    const { dir } = await crashedLog();
    await rm(join(dir, CURRENT_SEGMENT));
    const { recovered } = await recoverState(dir, 'truncate_at_corruption', HISTORY);
    expect(recovered.report.healthy).toBe(false);
    expect(recovered.report.actions.join('\n')).toContain('accepted the loss');
    expect(recovered.mark.durableSequence).toBe(recovered.lastSequence);
    await recoverState(dir, 'strict', HISTORY);
  });

  it('is moved by a clean shutdown to the last record', async () => {
    const dir = await dirs.make();
    const { h } = await Harness.open({ dir, ...OPTS, markIntervalMs: 0 }, HISTORY);
    const last = place(h, 7);
    await h.wal.close();
    expect((await readMark(dir))!.durableSequence).toBe(last);
  });

  it('is created for a WAL directory from before it, and the start says so', async () => {
    const { dir, last } = await crashedLog();
    await rm(join(dir, MARK_FILE));
    const { recovered } = await recoverState(dir, 'strict', HISTORY);
    expect(recovered.lastSequence).toBe(last);
    expect(recovered.report.actions.join('\n')).toMatch(/created wal\.json .* made before it/);
    expect((await readMark(dir))!.durableSequence).toBe(last);
    const report = await verifyWal(dir);
    expect(report.healthy).toBe(true);
  });

  it('that is damaged is refused with its path', async () => {
    const { dir } = await crashedLog();
    await writeFile(join(dir, MARK_FILE), '{"format":');
    await expect(recoverState(dir, 'strict', HISTORY)).rejects.toThrow(
      `${join(dir, MARK_FILE)} is not valid JSON`,
    );
    await writeMark(dir, { walId: 'x', durableSequence: 1 });
    await recoverState(dir, 'strict', HISTORY);
  });
});
