// A crash can leave the last write of orders_current.wal cut at any byte. Recovery must keep
// everything before the torn record, set the cut-off bytes aside in quarantine/, and let the
// writer continue with the next sequence number.
import { appendFile, cp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineState } from '@veloz/engine/engine/state';
import { HEADER_SIZE, RecordType, encodeRecord, type RawRecord } from './framing.ts';
import { CURRENT_SEGMENT, MARK_FILE } from './segments.ts';
import { encodeRotation, type OrderRecord } from './payloads.ts';
import { verifyWal } from './recovery.ts';
import { Harness, TempDirs, normalizedSnapshot, recordsIn, recoverState } from '@veloz/testing/wal-testkit';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const OPTS = { maxSegmentBytes: 1500, maxFiles: 2, sync: false, checkpointInterval: 0 };
const HISTORY = 0;

interface Template {
  dir: string;
  /** Records of orders_current.wal, in order. */
  records: RawRecord[];
  current: Buffer;
  /** Normalized state after each order record's sequence number. */
  stateAfter: Map<number, unknown>;
}

function newOrder(id: number): OrderRecord {
  return {
    type: RecordType.OrderNew,
    data: {
      orderId: id,
      clientOrderId: `4f1c2a9e-1b7d-4c55-9a1e-${String(id).padStart(12, '0')}`,
      symbol: 'BTCUSDT',
      side: id % 2 ? 'BUY' : 'SELL',
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: 5_000_000 + id,
      quantity: 100 + id,
      strategy: id % 3 ? 'grid' : '',
    },
  };
}

/**
 * Writes orders (each partly filled, then canceled, so the checkpoints stay small) until a
 * rotation has happened and `stop` says the current segment is as wanted. Ends with an OrderNew.
 */
async function buildTemplate(stop: (recordsInCurrent: number) => boolean): Promise<Template> {
  const dir = await dirs.make();
  const { h } = await Harness.open({ dir, ...OPTS }, HISTORY);
  const stateAfter = new Map<number, unknown>([[0, normalizedSnapshot(new EngineState(HISTORY))]]);
  const commit = (rec: OrderRecord): void => {
    const seq = h.commit(rec);
    stateAfter.set(seq, normalizedSnapshot(h.state));
  };
  for (let id = 1; id < 1000; id++) {
    commit(newOrder(id));
    await h.wal.flush();
    const current = recordsIn(await readFile(join(dir, CURRENT_SEGMENT)));
    const sealed = (await readdir(dir)).filter((n) => n !== CURRENT_SEGMENT).length;
    if (sealed > 0 && stop(current.length)) break;
    commit({
      type: RecordType.OrderFill,
      data: { orderId: id, quantity: 7, price: 4_999_000 + id, tradeId: id },
    });
    commit({ type: RecordType.OrderCancel, data: { orderId: id, reason: 'user' } });
  }
  await h.wal.close();
  const current = await readFile(join(dir, CURRENT_SEGMENT));
  return { dir, records: recordsIn(current), current, stateAfter };
}

/** The state as of sequence `seq`: the state after the last order record at or before it. */
function stateAt(t: Template, seq: number): unknown {
  let best = 0;
  for (const s of t.stateAfter.keys()) if (s <= seq && s > best) best = s;
  return t.stateAfter.get(best);
}

async function copyOf(t: Template): Promise<string> {
  const dir = await dirs.make();
  await cp(t.dir, dir, { recursive: true });
  // The template was closed, so its high-water mark vouches for its last record; a torn record
  // was never durable, and the mark a crashed writer leaves is older than it. Without a mark
  // nothing is checked against one (mark.test.ts covers the check).
  await rm(join(dir, MARK_FILE));
  return dir;
}

async function quarantined(dir: string): Promise<Buffer[]> {
  const names = await readdir(join(dir, 'quarantine')).catch(() => [] as string[]);
  return Promise.all(names.sort().map((n) => readFile(join(dir, 'quarantine', n))));
}

/**
 * Recovers `dir`, checks that exactly the records before `keptUpTo` survive, appends one more
 * order and checks that a second recovery sees it under the next sequence number.
 */
async function recoverAndContinue(
  t: Template,
  dir: string,
  keptUpTo: number,
  expectedTailBytes: number,
): Promise<void> {
  const { h, recovered } = await Harness.open({ dir, ...OPTS }, HISTORY);
  expect(recovered.lastSequence).toBe(keptUpTo);
  expect(normalizedSnapshot(h.state)).toEqual(stateAt(t, keptUpTo));
  expect(recovered.report.tornTailBytes).toBe(expectedTailBytes);
  // A torn tail is what a crash leaves behind, not corruption.
  expect(recovered.report.corruptRecords).toBe(0);
  expect(recovered.report.problems).toEqual([]);

  const nextId = h.state.nextOrderId;
  const seq = h.commit(newOrder(nextId));
  await h.wal.close();
  const live = normalizedSnapshot(h.state);

  const again = await recoverState(dir, 'strict', HISTORY);
  expect(again.recovered.lastSequence).toBe(seq);
  // The sequence continues right after the kept records; only a checkpoint (a segment that lost
  // every record starts over with one) or a rotation may come in between.
  const between: number[] = [];
  const report = await verifyWal(dir, (_seg, r) => {
    if (r.seq > keptUpTo && r.seq < seq) between.push(r.type);
    if (r.seq === keptUpTo + 1 + between.length && r.seq === seq) between.push(-1);
  });
  expect(report.healthy).toBe(true);
  expect(between.at(-1)).toBe(-1);
  expect(between.slice(0, -1).every((x) => x === RecordType.Checkpoint || x === RecordType.Rotation)).toBe(
    true,
  );
  if (recovered.needsCheckpoint) expect(between[0]).toBe(RecordType.Checkpoint);
  expect(again.recovered.report.tornTailBytes).toBe(0);
  expect(again.recovered.report.actions).toEqual([]);
  expect(normalizedSnapshot(again.state)).toEqual(live);
}

describe('torn tail of orders_current.wal', () => {
  let t: Template;
  beforeAll(async () => {
    t = await buildTemplate((n) => n >= 4);
  });

  it('is cut at every byte offset of its last record', async () => {
    const last = t.records.at(-1)!;
    const dataEnd = HEADER_SIZE + last.payload.length;
    expect(last.type).toBe(RecordType.OrderNew);
    expect(t.current.length).toBe(last.offset + last.size);
    for (let cut = 0; cut < last.size; cut++) {
      const dir = await copyOf(t);
      await truncate(join(dir, CURRENT_SEGMENT), last.offset + cut);
      const torn = cut > 0 && cut < dataEnd;
      // Cut inside the zero padding, all of the record's data is there: it stays.
      const keptUpTo = cut >= dataEnd ? last.seq : last.seq - 1;
      await recoverAndContinue(t, dir, keptUpTo, torn ? cut : 0).catch((e: unknown) => {
        throw new Error(`cut at ${cut} of ${last.size}: ${String(e)}`, { cause: e });
      });
      const q = await quarantined(dir);
      if (torn) {
        expect(q).toHaveLength(1);
        expect(q[0]!.equals(t.current.subarray(last.offset, last.offset + cut))).toBe(true);
      } else {
        expect(q).toHaveLength(0);
      }
    }
  });

  it('is a full-length last record whose end never reached the disk (zeros)', async () => {
    const last = t.records.at(-1)!;
    for (const zeroed of [1, 8, last.size - HEADER_SIZE, last.size - 4, last.size]) {
      const dir = await copyOf(t);
      const buf = Buffer.from(t.current);
      buf.fill(0, last.offset + last.size - zeroed, last.offset + last.size);
      await writeFile(join(dir, CURRENT_SEGMENT), buf);
      await recoverAndContinue(t, dir, last.seq - 1, last.size);
      const q = await quarantined(dir);
      expect(q).toHaveLength(1);
      expect(q[0]!.equals(buf.subarray(last.offset))).toBe(true);
    }
  });

  it.each([1, 7, 8, 31, 32, 33, 4096, 65536])(
    'is %i zero bytes after the last complete record (a preallocated or torn tail)',
    async (zeros) => {
      const dir = await copyOf(t);
      await appendFile(join(dir, CURRENT_SEGMENT), Buffer.alloc(zeros));
      await recoverAndContinue(t, dir, t.records.at(-1)!.seq, zeros);
      const q = await quarantined(dir);
      expect(q).toHaveLength(1);
      expect(q[0]!.equals(Buffer.alloc(zeros))).toBe(true);
    },
  );

  it.each([
    { name: 'random bytes', bytes: Buffer.from('d1e2a3b4c5f60718293a4b5c6d7e8f90aabbccddeeff0011', 'hex') },
    {
      name: 'a lone header',
      bytes: encodeRecord(99, 1, RecordType.OrderNew, Buffer.alloc(64)).subarray(0, 32),
    },
  ])('is $name after the last complete record', async ({ bytes: tail }) => {
    const dir = await copyOf(t);
    await appendFile(join(dir, CURRENT_SEGMENT), tail);
    await recoverAndContinue(t, dir, t.records.at(-1)!.seq, tail.length);
    expect((await quarantined(dir))[0]!.equals(tail)).toBe(true);
  });

  it('is cut at every byte offset of a rotation record (the crash came before the seal)', async () => {
    const last = t.records.at(-1)!;
    const sealedCount = (await readdir(t.dir)).filter((n) => n !== CURRENT_SEGMENT).length;
    const rotation = encodeRecord(
      last.seq + 1,
      last.timestamp,
      RecordType.Rotation,
      encodeRotation({ sealedSegment: sealedCount + 1 }),
    );
    for (let cut = 0; cut <= rotation.length; cut++) {
      const dir = await copyOf(t);
      await appendFile(join(dir, CURRENT_SEGMENT), rotation.subarray(0, cut));
      const complete = cut >= HEADER_SIZE + 8;
      await recoverAndContinue(t, dir, complete ? last.seq + 1 : last.seq, complete || cut === 0 ? 0 : cut);
      const names = await readdir(dir);
      // A complete rotation record means the rotation is finished on recovery.
      expect(names.includes(`orders_${String(sealedCount + 1).padStart(16, '0')}.wal`)).toBe(complete);
    }
  });
});

describe('torn tail of the only record in orders_current.wal', () => {
  it('is cut at every byte offset of the checkpoint that starts a segment', async () => {
    const t = await buildTemplate((n) => n === 2);
    const [checkpoint] = t.records;
    expect(checkpoint!.type).toBe(RecordType.Checkpoint);
    expect(checkpoint!.offset).toBe(0);
    const dataEnd = HEADER_SIZE + checkpoint!.payload.length;
    // Every header offset, then a stride through the (JSON) payload, then its end.
    const cuts = new Set<number>();
    for (let c = 0; c < checkpoint!.size; c++) if (c <= 40 || c % 13 === 0 || c >= dataEnd - 9) cuts.add(c);
    for (const cut of cuts) {
      const dir = await copyOf(t);
      await truncate(join(dir, CURRENT_SEGMENT), cut);
      const keptUpTo = cut >= dataEnd ? checkpoint!.seq : checkpoint!.seq - 1;
      await recoverAndContinue(t, dir, keptUpTo, cut > 0 && cut < dataEnd ? cut : 0).catch((e: unknown) => {
        throw new Error(`cut at ${cut} of ${checkpoint!.size}: ${String(e)}`, { cause: e });
      });
    }
  });
});
