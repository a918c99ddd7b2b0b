// Damage that a crash cannot explain -- bit flips, missing segments, records that do not follow
// -- must never be repaired silently: strict recovery refuses with the file and offset, verify
// reports it, and truncate_at_corruption recovers from the newest intact checkpoint through every
// valid record after it, moving the rest to quarantine/.
import { appendFile, cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_SIZE, RecordType, encodeRecord, type RawRecord } from './framing.ts';
import { CURRENT_SEGMENT, SEALED_SEGMENT, sealedSegmentName } from './segments.ts';
import { encodeRotation } from './payloads.ts';
import { WalCorruptionError, verifyWal, type RecoveryMode } from './recovery.ts';
import {
  Harness,
  TempDirs,
  filesUnder,
  missingContents,
  normalizedSnapshot,
  recordsIn,
  recoverState,
  sequencesOnDisk,
  stateAt,
  writeLog,
  type LogFixture,
} from '@veloz/testing/wal-testkit';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const OPTS = { maxSegmentBytes: 2500, maxFiles: 100, sync: false, checkpointInterval: 6 };
const HISTORY = 3;

let log: LogFixture;
let sealed: string[];
beforeAll(async () => {
  log = await writeLog(
    await dirs.make(),
    OPTS,
    HISTORY,
    (sealedCount, inCurrent) => sealedCount >= 4 && inCurrent >= 3,
  );
  sealed = (await readdir(log.dir)).filter((n) => SEALED_SEGMENT.test(n)).sort();
});

async function copyLog(): Promise<string> {
  const dir = await dirs.make();
  await cp(log.dir, dir, { recursive: true });
  return dir;
}

async function segmentRecords(dir: string, name: string): Promise<RawRecord[]> {
  return recordsIn(await readFile(join(dir, name)));
}

async function flipBit(path: string, offset: number, bit: number): Promise<void> {
  const buf = await readFile(path);
  buf[offset]! ^= 1 << bit;
  await writeFile(path, buf);
}

async function recoveryError(dir: string, mode: RecoveryMode = 'strict'): Promise<WalCorruptionError> {
  try {
    await recoverState(dir, mode, HISTORY);
  } catch (e) {
    if (e instanceof WalCorruptionError) return e;
    throw e;
  }
  throw new Error('recovery succeeded on a damaged log');
}

function appendOne(h: Harness): number {
  const id = h.state.nextOrderId;
  return h.commit({
    type: RecordType.OrderNew,
    data: {
      orderId: id,
      clientOrderId: `after-recovery-${id}`,
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: 100,
      quantity: 1,
      strategy: '',
    },
  });
}

/**
 * truncate_at_corruption: recovers exactly the records up to `keptUpTo`, keeps every byte that
 * was there (whatever is not kept in quarantine/), and the writer can go on.
 */
async function expectTruncatedRecovery(dir: string, keptUpTo: number): Promise<void> {
  const before = await filesUnder(dir);
  // Valid records beyond what is kept are lost: the log then declares a jump above all of them,
  // so that their sequence numbers are never written again.
  const highest = Math.max(...(await sequencesOnDisk(dir)));
  const end = highest > keptUpTo ? highest + 1 : keptUpTo;
  const { state, recovered } = await recoverState(dir, 'truncate_at_corruption', HISTORY);
  expect(recovered.lastSequence).toBe(end);
  expect(recovered.jump).toEqual(
    end === keptUpTo ? null : { previous: keptUpTo, seq: end, lost: end - keptUpTo - 1 },
  );
  expect(normalizedSnapshot(state)).toEqual(stateAt(log, keptUpTo));
  expect(recovered.report.healthy).toBe(false);
  expect(recovered.report.actions.some((a) => a.includes('quarantine'))).toBe(true);
  expect(missingContents(before, await filesUnder(dir))).toEqual([]);

  // Recovered means usable: a strict restart accepts it, the sequence continues, and the next
  // restart sees the new record.
  const { h, recovered: again } = await Harness.open({ dir, ...OPTS }, HISTORY);
  expect(again.lastSequence).toBe(end);
  const seq = appendOne(h);
  expect(seq).toBeGreaterThan(end);
  await h.wal.close();
  const third = await recoverState(dir, 'strict', HISTORY);
  expect(third.recovered.lastSequence).toBe(h.wal.lastSequence);
  expect(normalizedSnapshot(third.state)).toEqual(normalizedSnapshot(h.state));
  expect((await verifyWal(dir)).healthy).toBe(true);
}

describe('the fixture', () => {
  it('has several sealed segments, each starting with a checkpoint after the first', async () => {
    expect(sealed.length).toBeGreaterThanOrEqual(4);
    for (const name of sealed.slice(1))
      expect((await segmentRecords(log.dir, name))[0]!.type).toBe(RecordType.Checkpoint);
    const report = await verifyWal(log.dir);
    expect(report.healthy).toBe(true);
    expect(report.lastSequence).toBe(log.lastSequence);
  });
});

describe('a bit flip in a sealed segment', () => {
  type Where = (recs: RawRecord[]) => { at: number; record: number };
  // `record` is the index of the record the damage is reported at.
  const middle = (recs: RawRecord[]): number =>
    recs.findIndex((r, i) => i > 1 && r.size > HEADER_SIZE + r.payload.length);
  const cases: Array<{ name: string; where: Where; bit: number }> = [
    { name: 'the length (low bit)', where: (r) => ({ at: r[middle(r)]!.offset, record: middle(r) }), bit: 0 },
    {
      name: 'the length (high bit)',
      where: (r) => ({ at: r[middle(r)]!.offset + 3, record: middle(r) }),
      bit: 7,
    },
    { name: 'the checksum', where: (r) => ({ at: r[middle(r)]!.offset + 5, record: middle(r) }), bit: 2 },
    {
      name: 'the sequence number',
      where: (r) => ({ at: r[middle(r)]!.offset + 8, record: middle(r) }),
      bit: 0,
    },
    { name: 'the timestamp', where: (r) => ({ at: r[middle(r)]!.offset + 17, record: middle(r) }), bit: 4 },
    { name: 'the record type', where: (r) => ({ at: r[middle(r)]!.offset + 24, record: middle(r) }), bit: 1 },
    {
      name: 'the format version',
      where: (r) => ({ at: r[middle(r)]!.offset + 25, record: middle(r) }),
      bit: 0,
    },
    { name: 'the flags', where: (r) => ({ at: r[middle(r)]!.offset + 26, record: middle(r) }), bit: 3 },
    { name: 'the magic', where: (r) => ({ at: r[middle(r)]!.offset + 30, record: middle(r) }), bit: 6 },
    {
      name: 'the first payload byte',
      where: (r) => ({ at: r[middle(r)]!.offset + HEADER_SIZE, record: middle(r) }),
      bit: 0,
    },
    {
      name: 'the last payload byte, next to the padding',
      where: (r) => ({
        at: r[middle(r)]!.offset + HEADER_SIZE + r[middle(r)]!.payload.length - 1,
        record: middle(r),
      }),
      bit: 7,
    },
    {
      name: 'the first byte after the padding',
      where: (r) => ({ at: r[middle(r)]!.offset + r[middle(r)]!.size, record: middle(r) + 1 }),
      bit: 0,
    },
    { name: 'the leading checkpoint', where: () => ({ at: HEADER_SIZE + 3, record: 0 }), bit: 5 },
    {
      name: 'the closing rotation record',
      where: (r) => ({ at: r.at(-1)!.offset + HEADER_SIZE, record: r.length - 1 }),
      bit: 0,
    },
  ];

  // Every later segment starts with a checkpoint, so truncate mode loses nothing.
  it.each(cases)(
    'in $name is refused, reported, and recovered in full on request',
    async ({ where, bit }) => {
      const segment = sealed[1]!;
      const recs = await segmentRecords(log.dir, segment);
      const { at, record } = where(recs);
      const offset = recs[record]!.offset;
      const dir = await copyLog();
      await flipBit(join(dir, segment), at, bit);
      const damaged = await filesUnder(dir);

      const err = await recoveryError(dir);
      expect(err.file).toBe(join(dir, segment));
      expect(err.offset).toBe(offset);
      expect(err.message).toContain(`${join(dir, segment)} at offset ${offset}`);
      expect(err.message).toContain('truncate_at_corruption');
      // A refused start changes nothing.
      expect(missingContents(damaged, await filesUnder(dir))).toEqual([]);
      expect(await readdir(dir)).not.toContain('quarantine');

      const report = await verifyWal(dir);
      expect(report.healthy).toBe(false);
      expect(report.corruptRecords).toBeGreaterThanOrEqual(1);
      expect(report.problems.some((p) => p.startsWith(`${segment}: offset ${offset}:`))).toBe(true);
      expect(report.segments.find((s) => s.name === segment)?.problem).toMatchObject({
        offset,
        kind: 'corrupt',
      });

      await expectTruncatedRecovery(dir, log.lastSequence);
    },
  );

  it('in the zero padding is harmless: no data changed, everything recovers', async () => {
    const segment = sealed[1]!;
    const recs = await segmentRecords(log.dir, segment);
    const r = recs[middle(recs)]!;
    const dir = await copyLog();
    await flipBit(join(dir, segment), r.offset + r.size - 1, 0);
    const { state, recovered } = await recoverState(dir, 'strict', HISTORY);
    expect(recovered.lastSequence).toBe(log.lastSequence);
    expect(normalizedSnapshot(state)).toEqual(log.final);
  });

  it('in the first sealed segment loses nothing in truncate mode: the next one starts with a checkpoint', async () => {
    const dir = await copyLog();
    await flipBit(join(dir, sealed[0]!), 9, 0);
    expect((await recoveryError(dir)).offset).toBe(0);
    await expectTruncatedRecovery(dir, log.lastSequence);
  });
});

describe('damage in orders_current.wal', () => {
  it('a bit flip with valid records after it is corruption, not a torn tail', async () => {
    const dir = await copyLog();
    const recs = await segmentRecords(dir, CURRENT_SEGMENT);
    expect(recs.length).toBeGreaterThanOrEqual(3);
    const victim = recs[1]!;
    await flipBit(join(dir, CURRENT_SEGMENT), victim.offset + HEADER_SIZE, 3);
    const err = await recoveryError(dir);
    expect(err.file).toBe(join(dir, CURRENT_SEGMENT));
    expect(err.offset).toBe(victim.offset);
    const report = await verifyWal(dir);
    expect(report.healthy).toBe(false);
    expect(report.tornTailBytes).toBe(0);
    await expectTruncatedRecovery(dir, victim.seq - 1);
  });

  it('zeros over a record in the middle are corruption too', async () => {
    const dir = await copyLog();
    const buf = await readFile(join(dir, CURRENT_SEGMENT));
    const victim = recordsIn(buf)[1]!;
    buf.fill(0, victim.offset, victim.offset + victim.size);
    await writeFile(join(dir, CURRENT_SEGMENT), buf);
    expect((await recoveryError(dir)).offset).toBe(victim.offset);
    await expectTruncatedRecovery(dir, victim.seq - 1);
  });

  it('a complete record that does not continue the sequence is corruption, not a torn tail', async () => {
    const dir = await copyLog();
    const buf = await readFile(join(dir, CURRENT_SEGMENT));
    const first = recordsIn(buf)[0]!;
    await appendFile(join(dir, CURRENT_SEGMENT), buf.subarray(first.offset, first.offset + first.size));
    const err = await recoveryError(dir);
    expect(err.offset).toBe(buf.length);
    expect(err.message).toMatch(/sequence \d+ follows \d+/);
    await expectTruncatedRecovery(dir, log.lastSequence);
  });

  it('a record after a rotation record is corruption', async () => {
    const dir = await copyLog();
    const ts = Date.now();
    await appendFile(
      join(dir, CURRENT_SEGMENT),
      Buffer.concat([
        encodeRecord(
          log.lastSequence + 1,
          ts,
          RecordType.Rotation,
          encodeRotation({ sealedSegment: sealed.length + 1 }),
        ),
        encodeRecord(log.lastSequence + 2, ts, RecordType.Checkpoint, Buffer.from('{}')),
      ]),
    );
    const err = await recoveryError(dir);
    expect(err.message).toContain('record after a rotation record');
    // The valid prefix ends with the rotation record, so it is kept as the sealed segment that
    // record names, never as a current segment that the writer would append to.
    await expectTruncatedRecovery(dir, log.lastSequence + 1);
    const resealed = await segmentRecords(dir, sealedSegmentName(sealed.length + 1));
    expect(resealed.at(-1)).toMatchObject({ seq: log.lastSequence + 1, type: RecordType.Rotation });
    // The checkpoint after the rotation record was lost: the new segment declares a jump over
    // its sequence, then starts from a checkpoint.
    const current = (await segmentRecords(dir, CURRENT_SEGMENT)).slice(0, 2).map((r) => r.type);
    expect(current).toEqual([RecordType.SequenceJump, RecordType.Checkpoint]);
  });
});

describe('segments', () => {
  it('a missing middle segment is detected', async () => {
    const dir = await copyLog();
    const gone = sealed[2]!;
    await rm(join(dir, gone));
    const err = await recoveryError(dir);
    expect(err.file).toBe(join(dir, sealed[3]!));
    expect(err.offset).toBe(0);
    expect(err.message).toMatch(/starts at sequence \d+, expected \d+/);
    const report = await verifyWal(dir);
    expect(report.healthy).toBe(false);
    expect(report.problems.join('\n')).toContain(`${sealed[3]}: starts at sequence`);
    expect(report.problems.join('\n')).toContain('segment missing');
    // The segments after the gap start with a checkpoint: truncate mode recovers all of them.
    await expectTruncatedRecovery(dir, log.lastSequence);
    expect(await readdir(dir)).not.toContain(sealed[0]);
  });

  it('a missing last sealed segment is detected at the current segment', async () => {
    const dir = await copyLog();
    await rm(join(dir, sealed.at(-1)!));
    const err = await recoveryError(dir);
    expect(err.file).toBe(join(dir, CURRENT_SEGMENT));
    expect(err.offset).toBe(0);
  });

  it('oldest segments removed by retention are fine: every later segment starts with a checkpoint', async () => {
    const dir = await copyLog();
    for (const name of sealed.slice(0, 3)) await rm(join(dir, name));
    const { state, recovered } = await recoverState(dir, 'strict', HISTORY);
    expect(recovered.lastSequence).toBe(log.lastSequence);
    expect(normalizedSnapshot(state)).toEqual(log.final);
    expect((await verifyWal(dir)).healthy).toBe(true);
  });

  it('a log that starts after sequence 1 without a checkpoint is refused in both modes', async () => {
    const dir = await dirs.make();
    const ts = Date.now();
    const payload = Buffer.from(
      JSON.stringify({ orderId: 1 }), // never decoded: recovery must refuse before replaying
    );
    await writeFile(join(dir, CURRENT_SEGMENT), encodeRecord(5, ts, RecordType.OrderCancel, payload));
    for (const mode of ['strict', 'truncate_at_corruption'] as const) {
      const err = await recoveryError(dir, mode);
      expect(err.message).toMatch(/starts at sequence 5 with no checkpoint/);
    }
    const report = await verifyWal(dir);
    expect(report.healthy).toBe(false);
  });

  it('an empty sealed segment is reported, not silently skipped', async () => {
    const dir = await copyLog();
    const name = sealedSegmentName(sealed.length + 50);
    await writeFile(join(dir, name), Buffer.alloc(0));
    const err = await recoveryError(dir);
    expect(err.file).toBe(join(dir, name));
    expect(err.message).toContain('sealed segment is empty');
    expect((await verifyWal(dir)).healthy).toBe(false);
  });
});

describe('an interrupted rotation', () => {
  it('(the current segment ends with a rotation record) is finished on recovery', async () => {
    const dir = await copyLog();
    const next = sealed.length + 1;
    const rotation = encodeRecord(
      log.lastSequence + 1,
      Date.now(),
      RecordType.Rotation,
      encodeRotation({ sealedSegment: next }),
    );
    await appendFile(join(dir, CURRENT_SEGMENT), rotation);
    const current = await readFile(join(dir, CURRENT_SEGMENT));

    const { h, recovered } = await Harness.open({ dir, ...OPTS }, HISTORY);
    expect(recovered.report.actions.join('\n')).toContain('interrupted rotation');
    expect(recovered.lastSequence).toBe(log.lastSequence + 1);
    expect(recovered.nextSealedNumber).toBe(next + 1);
    expect(recovered.needsCheckpoint).toBe(true);
    expect(recovered.currentSize).toBe(0);
    expect(normalizedSnapshot(h.state)).toEqual(log.final);
    expect((await readFile(join(dir, sealedSegmentName(next)))).equals(current)).toBe(true);
    expect((await readFile(join(dir, CURRENT_SEGMENT))).length).toBe(0);

    // The new segment starts with a checkpoint, then the record.
    appendOne(h);
    await h.wal.close();
    const recs = await segmentRecords(dir, CURRENT_SEGMENT);
    expect(recs.map((r) => [r.seq, r.type])).toEqual([
      [log.lastSequence + 2, RecordType.Checkpoint],
      [log.lastSequence + 3, RecordType.OrderNew],
    ]);
    const report = await verifyWal(dir);
    expect(report.healthy).toBe(true);
    const again = await recoverState(dir, 'strict', HISTORY);
    expect(normalizedSnapshot(again.state)).toEqual(normalizedSnapshot(h.state));
  });
});
