// The shipping tail across a declared sequence jump (ADR 0012): PostgreSQL may already hold
// records the local WAL lost (they were shipped before the loss). Shipping on from there must go
// on at the jump record, never stall on sequence numbers that will not be written again, and
// never compare a lost record with the jump.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordType } from '@veloz/wal/format';
import { CURRENT_SEGMENT } from '@veloz/wal/segments';
import { Harness, TempDirs, recordsIn } from '@veloz/testing/wal-testkit';
import { WalTail } from './wal-tail.ts';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const OPTS = { maxSegmentBytes: 16 * 1024, maxFiles: 1000, sync: true, checkpointInterval: 50 };

function place(h: Harness, n: number, tag: string): number {
  let seq = 0;
  for (let i = 0; i < n; i++) {
    const id = h.state.nextOrderId;
    seq = h.commit({
      type: RecordType.OrderNew,
      data: {
        orderId: id,
        clientOrderId: `${tag}-${id}`,
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        price: 50_000,
        quantity: 10,
        strategy: '',
      },
    });
  }
  return seq;
}

/** A WAL that lost its end (`damage`), restarted in truncate mode and took 20 more orders. */
async function jumped(damage: (dir: string) => Promise<void>) {
  const dir = await dirs.make();
  const first = await Harness.open({ dir, ...OPTS }, 10_000);
  await first.h.wal.waitDurable(place(first.h, 300, 'a'));
  const highest = first.h.wal.lastSequence;
  await first.h.wal.close();
  await damage(dir);
  const { h, recovered } = await Harness.open({ dir, ...OPTS }, 10_000, 'truncate_at_corruption');
  await h.wal.waitDurable(place(h, 20, 'b'));
  await h.wal.close();
  return { dir, highest, jump: recovered.jump!, last: h.wal.lastSequence };
}

const cases: Array<[string, (dir: string) => Promise<void>]> = [
  [
    'in the middle of a segment',
    async (dir) => {
      const buf = await readFile(join(dir, CURRENT_SEGMENT));
      await writeFile(join(dir, CURRENT_SEGMENT), buf.subarray(0, recordsIn(buf).at(-5)!.offset));
    },
  ],
  ['at the start of a segment', (dir) => rm(join(dir, CURRENT_SEGMENT))],
];

describe.each(cases)('a declared jump %s', (_what, damage) => {
  it('is where shipping goes on from any lost sequence, and reads on contiguously', async () => {
    const { dir, highest, jump, last } = await jumped(damage);
    expect(jump.seq).toBe(highest + 1);
    const tail = new WalTail(dir);
    // PostgreSQL holds everything up to `highest`: its last record is not in this WAL any more.
    expect(await tail.read(highest, highest, 1)).toEqual([]);
    for (const from of [jump.previous + 1, highest, highest + 1]) {
      const got = await new WalTail(dir).read(from, last, 1000);
      expect(got[0]).toMatchObject({ seq: jump.seq, type: RecordType.SequenceJump });
      expect(got.map((r) => r.seq)).toEqual(
        Array.from({ length: last - jump.seq + 1 }, (_, i) => jump.seq + i),
      );
    }
    // Shipping that was current before the loss reads the last record kept, then the jump (in
    // batches that end at a rotation record, as the shipper asks: from the last one shipped + 1).
    const across: number[] = [];
    const shipper = new WalTail(dir);
    while (across.length < 3) {
      const got = await shipper.read((across.at(-1) ?? jump.previous - 1) + 1, last, 3 - across.length);
      expect(got.length).toBeGreaterThan(0);
      across.push(...got.map((r) => r.seq));
    }
    expect(across).toEqual([jump.previous, jump.seq, jump.seq + 1]);
    // Batches continue from the cursor.
    const again = await tail.read(jump.seq + 2, last, 1000);
    expect(again[0]!.seq).toBe(jump.seq + 2);
  });
});
