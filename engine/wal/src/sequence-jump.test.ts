// Issue 16, item 5 ("sequence numbers are never reused"): after truncate_at_corruption accepted a
// loss, the next records continued after the last record kept, so the sequence numbers of lost
// and quarantined records were written a second time, for other records. The engine now declares
// a jump (a SequenceJump record naming the last record kept) and continues above every sequence
// the WAL ever held; readers accept exactly that gap and still refuse any other.
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_SIZE, RecordType, encodeRecord } from './framing.ts';
import { readMark } from './mark.ts';
import { encodeSequenceJump, encodeTradingHalt } from './payloads.ts';
import { bufferReader } from './reader.ts';
import { WalCorruptionError, verifyWal } from './recovery.ts';
import { CURRENT_SEGMENT, QUARANTINE_DIR } from './segments.ts';
import { Harness, TempDirs, recordsIn, recoverState } from '@veloz/testing/wal-testkit';
import { veloz } from '@veloz/testing/backup';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const ORDERS = 1500;
const MORE = 100;
const HISTORY = 4000;
const OPTS = { maxSegmentBytes: 48 * 1024, maxFiles: 1000, sync: true, checkpointInterval: 100 };

let source: string;

function placeOrders(h: Harness, n: number, tag: string): number {
  let seq = 0;
  for (let i = 0; i < n; i++) {
    const id = h.state.nextOrderId;
    seq = h.commit({
      type: RecordType.OrderNew,
      data: {
        orderId: id,
        clientOrderId: `${tag}-${id}`,
        symbol: 'BTCUSDT',
        side: i % 2 === 0 ? 'BUY' : 'SELL',
        type: 'LIMIT',
        timeInForce: 'GTC',
        price: 50_000 + (i % 7),
        quantity: 10,
        strategy: '',
      },
    });
  }
  return seq;
}

/** 1,500 orders, acknowledged the way the engine does (once waitDurable resolves), then a clean stop. */
beforeAll(async () => {
  source = await dirs.make();
  const { h } = await Harness.open({ dir: source, ...OPTS }, HISTORY);
  for (let i = 0; i < ORDERS / 50; i++) await h.wal.waitDurable(placeOrders(h, 50, 'acked'));
  await h.wal.close();
});

async function copy(): Promise<string> {
  const dir = await dirs.make();
  await cp(source, dir, { recursive: true });
  return dir;
}

/** Every valid record under `dir` (quarantine/ included) as sequence -> the CRCs it was written with. */
async function writtenSequences(dir: string): Promise<Map<number, Set<number>>> {
  const seen = new Map<number, Set<number>>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const path = join(d, e.name);
      if (e.isDirectory()) await walk(path);
      else if (e.name.endsWith('.wal') || e.name.endsWith('.bin')) {
        const buf = await readFile(path);
        for (const r of recordsIn(buf)) {
          const crcs = seen.get(r.seq) ?? new Set<number>();
          crcs.add(buf.readUInt32LE(r.offset + 4));
          seen.set(r.seq, crcs);
        }
      }
    }
  };
  await walk(dir);
  return seen;
}

/** Every record of the live segments (quarantine/ aside), in log order. */
async function liveRecords(
  dir: string,
): Promise<Array<ReturnType<typeof recordsIn>[number] & { file: string }>> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.wal'));
  // Sealed segments sort by number, and the current one (orders_current.wal) after them.
  names.sort((a, b) => (a === CURRENT_SEGMENT ? 1 : b === CURRENT_SEGMENT ? -1 : a.localeCompare(b)));
  const out = [];
  for (const file of names)
    for (const r of recordsIn(await readFile(join(dir, file)))) out.push({ ...r, file });
  return out;
}

async function highestIn(dir: string): Promise<number> {
  let highest = 0;
  for (const name of await readdir(dir).catch(() => [])) {
    for (const r of recordsIn(await readFile(join(dir, name)))) highest = Math.max(highest, r.seq);
  }
  return highest;
}

interface VerifySummary {
  healthy: boolean;
  lastSequence: number;
  durableMark: number;
  problems: string[];
  sequenceJumps: Array<{ segment: string; after: number; continuesAt: number; lost: number }>;
}

async function verifyCli(dir: string): Promise<{ code: number | null; summary: VerifySummary }> {
  const r = await veloz(['wal', 'verify', dir]);
  return { code: r.code, summary: JSON.parse(r.stdout) as VerifySummary };
}

const damages: Array<[string, (dir: string) => Promise<void>]> = [
  [
    'the current segment cut at a record boundary',
    async (dir) => {
      const buf = await readFile(join(dir, CURRENT_SEGMENT));
      const recs = recordsIn(buf);
      await writeFile(join(dir, CURRENT_SEGMENT), buf.subarray(0, recs.at(-20)!.offset));
    },
  ],
  ['the current segment truncated to 0', (dir) => writeFile(join(dir, CURRENT_SEGMENT), Buffer.alloc(0))],
  ['the current segment deleted', (dir) => rm(join(dir, CURRENT_SEGMENT))],
  [
    'one byte flipped after the newest checkpoint',
    async (dir) => {
      const buf = await readFile(join(dir, CURRENT_SEGMENT));
      const recs = recordsIn(buf);
      const after = recs.slice(recs.findLastIndex((r) => r.type === RecordType.Checkpoint) + 1);
      buf[after[1]!.offset + HEADER_SIZE]! ^= 0x01;
      await writeFile(join(dir, CURRENT_SEGMENT), buf);
    },
  ],
];

describe('after truncate_at_corruption accepts a loss', () => {
  for (const [what, damage] of damages) {
    it(`no sequence number is written twice: ${what}`, async () => {
      const dir = await copy();
      const markBefore = (await readMark(dir))!.durableSequence;
      await damage(dir);
      await expect(recoverState(dir, 'strict', HISTORY)).rejects.toThrow();

      const { h, recovered } = await Harness.open({ dir, ...OPTS }, HISTORY, 'truncate_at_corruption');
      const jump = recovered.jump!;
      expect(jump).not.toBeNull();
      const highestQuarantined = await highestIn(join(dir, QUARANTINE_DIR));
      expect(jump.seq).toBe(Math.max(markBefore, highestQuarantined) + 1);
      expect(jump.lost).toBe(jump.seq - jump.previous - 1);
      expect(recovered.report.actions.join('\n')).toContain(
        `sequence jump: the log continues at ${jump.seq}`,
      );
      const kept = [...h.state.byClientId.keys()].filter((k) => k.startsWith('acked-')).length;
      expect(kept).toBeLessThan(ORDERS);
      // More orders, acknowledged, then a clean stop.
      await h.wal.waitDurable(placeOrders(h, MORE, 'after'));
      await h.wal.close();

      // Each sequence stands for one record, wherever a copy of it lies.
      const seen = await writtenSequences(dir);
      const twice = [...seen].filter(([, crcs]) => crcs.size > 1).map(([seq]) => seq);
      expect(twice).toEqual([]);
      const live = await liveRecords(dir);
      const first = live.findIndex((r) => r.seq === jump.seq);
      expect(live[first]!.type).toBe(RecordType.SequenceJump);
      // The first record after the jump is a checkpoint: reading from it needs nothing before the gap.
      expect(live[first + 1]).toMatchObject({ seq: jump.seq + 1, type: RecordType.Checkpoint });

      const { code, summary } = await verifyCli(dir);
      expect(summary.problems).toEqual([]);
      expect({ code, healthy: summary.healthy }).toEqual({ code: 0, healthy: true });
      expect(summary.sequenceJumps).toEqual([
        { segment: live[first]!.file, after: jump.previous, continuesAt: jump.seq, lost: jump.lost },
      ]);
      expect(summary.durableMark).toBe(summary.lastSequence);

      // A strict start accepts the declared jump and holds every order kept and placed since.
      const again = await recoverState(dir, 'strict', HISTORY);
      expect(again.recovered.jump).toBeNull();
      expect(again.recovered.lastSequence).toBe(summary.lastSequence);
      const orders = [...again.state.byClientId.keys()];
      expect(orders.filter((k) => k.startsWith('acked-')).length).toBe(kept);
      expect(orders.filter((k) => k.startsWith('after-')).length).toBe(MORE);
    });
  }

  it('no jump is declared when nothing acknowledged was lost (a deleted middle segment)', async () => {
    const dir = await copy();
    const sealed = (await readdir(dir)).filter((n) => n !== CURRENT_SEGMENT && n.endsWith('.wal')).sort();
    await rm(join(dir, sealed[Math.floor(sealed.length / 2)]!));
    const { h, recovered } = await Harness.open({ dir, ...OPTS }, HISTORY, 'truncate_at_corruption');
    await h.wal.close();
    expect(recovered.jump).toBeNull();
    expect((await verifyWal(dir)).jumps).toEqual([]);
  });

  it('a jump at the start of a segment (the kept log ends with a sealed segment) is accepted', async () => {
    const dir = await copy();
    await rm(join(dir, CURRENT_SEGMENT));
    const { h, recovered } = await Harness.open({ dir, ...OPTS }, HISTORY, 'truncate_at_corruption');
    expect(recordsIn(await readFile(join(dir, CURRENT_SEGMENT)))[0]!.type).toBe(RecordType.SequenceJump);
    await h.wal.waitDurable(placeOrders(h, MORE, 'after'));
    await h.wal.close();
    const report = await verifyWal(dir);
    expect(report.problems).toEqual([]);
    const at = (await liveRecords(dir)).find((r) => r.seq === recovered.jump!.seq)!;
    expect(report.jumps).toEqual([{ ...recovered.jump!, segment: at.file }]);
    expect((await recoverState(dir, 'strict', HISTORY)).recovered.lastSequence).toBe(report.lastSequence);
  });
});

/** Re-encodes every record of `buf`, `swap` replacing the one it returns a buffer for. */
function rewrite(buf: Buffer, swap: (r: ReturnType<typeof recordsIn>[number]) => Buffer | null): Buffer {
  const reader = bufferReader(buf);
  const out: Buffer[] = [];
  for (let r = reader.next(); r !== null; r = reader.next()) {
    out.push(swap(r) ?? encodeRecord(r.seq, r.timestamp, r.type, r.payload));
  }
  return Buffer.concat(out);
}

describe('an undeclared gap is still an error', () => {
  let jumped: string;
  let jumpSeq: number;
  let previous: number;
  let segment: string;

  beforeAll(async () => {
    jumped = await copy();
    await writeFile(join(jumped, CURRENT_SEGMENT), Buffer.alloc(0));
    const { h, recovered } = await Harness.open({ dir: jumped, ...OPTS }, HISTORY, 'truncate_at_corruption');
    await h.wal.waitDurable(placeOrders(h, 10, 'after'));
    await h.wal.close();
    jumpSeq = recovered.jump!.seq;
    previous = recovered.jump!.previous;
    segment = (await liveRecords(jumped)).find((r) => r.seq === jumpSeq)!.file;
  });

  async function tampered(swap: Parameters<typeof rewrite>[1]): Promise<string> {
    const dir = await dirs.make();
    await cp(jumped, dir, { recursive: true });
    const path = join(dir, segment);
    await writeFile(path, rewrite(await readFile(path), swap));
    return dir;
  }

  async function expectRefused(dir: string, problem: RegExp): Promise<void> {
    const { code, summary } = await verifyCli(dir);
    expect(code).toBe(1);
    expect(summary.healthy).toBe(false);
    expect(summary.problems.join('\n')).toMatch(problem);
    await expect(recoverState(dir, 'strict', HISTORY)).rejects.toBeInstanceOf(WalCorruptionError);
  }

  it('a record at the jumped sequence that declares nothing', async () => {
    const dir = await tampered((r) =>
      r.seq === jumpSeq
        ? encodeRecord(
            r.seq,
            r.timestamp,
            RecordType.TradingHalt,
            encodeTradingHalt({ halted: false, reason: 'x' }),
          )
        : null,
    );
    await expectRefused(dir, new RegExp(`sequence ${jumpSeq}`));
  });

  it('a jump that names another record than the one before it', async () => {
    const dir = await tampered((r) =>
      r.seq === jumpSeq
        ? encodeRecord(
            r.seq,
            r.timestamp,
            RecordType.SequenceJump,
            encodeSequenceJump({ previous: previous - 1, reason: 'forged' }),
          )
        : null,
    );
    await expectRefused(dir, new RegExp(`follows ${previous - 1}`));
  });

  it('a gap after the declared jump', async () => {
    const dir = await tampered((r) =>
      r.seq > jumpSeq + 3 ? encodeRecord(r.seq + 5, r.timestamp, r.type, r.payload) : null,
    );
    await expectRefused(dir, new RegExp(`sequence ${jumpSeq + 9} follows ${jumpSeq + 3}`));
  });
});

describe('the reader', () => {
  const plain = (seq: number) => encodeRecord(seq, 1000 + seq, RecordType.OrderCancel, Buffer.alloc(8, seq));
  const jumpTo = (seq: number, previous: number) =>
    encodeRecord(seq, 2000, RecordType.SequenceJump, encodeSequenceJump({ previous, reason: 'test' }));
  const read = (buf: Buffer) => {
    const reader = bufferReader(buf);
    const seqs: number[] = [];
    for (let r = reader.next(); r !== null; r = reader.next()) seqs.push(r.seq);
    return { seqs, stop: reader.stop };
  };

  it('accepts a jump that names the record before it, and reads on after it', () => {
    const got = read(Buffer.concat([plain(1), plain(2), plain(3), jumpTo(10, 3), plain(11)]));
    expect(got).toMatchObject({ seqs: [1, 2, 3, 10, 11], stop: { kind: 'end' } });
  });

  it('refuses a jump that names another record, even one landing on the next sequence', () => {
    for (const [seq, previous] of [
      [4, 1],
      [10, 2],
    ] as const) {
      const got = read(Buffer.concat([plain(1), plain(2), plain(3), jumpTo(seq, previous)]));
      expect(got.seqs).toEqual([1, 2, 3]);
      expect(got.stop).toMatchObject({
        kind: 'sequence',
        reason: `sequence jump ${seq} declares it follows ${previous}, but 3 precedes it`,
      });
    }
  });

  it('refuses a jump that does not skip ahead as unreadable', () => {
    const got = read(Buffer.concat([plain(1), jumpTo(2, 1)]));
    expect(got).toMatchObject({ seqs: [1], stop: { kind: 'bad-jump' } });
  });
});
