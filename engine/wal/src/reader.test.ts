import { crc32c } from '@node-rs/crc32';
import fc from 'fast-check';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TempDirs } from '@veloz/testing/wal-testkit';
import { HEADER_SIZE, MAX_PAYLOAD, RecordType, encodeRecord } from './framing.ts';
import { encodeRotation } from './payloads.ts';
import {
  RecordReader,
  bufferReader,
  firstRecordHeader,
  readSegmentFile,
  scanForRecords,
  type RawRecord,
  type ReadOptions,
  type ReadStop,
} from './reader.ts';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

/** Re-seals a hand-edited record with a valid checksum, to reach the checks behind the CRC. */
function reseal(buf: Buffer, off = 0): Buffer {
  const len = buf.readUInt32LE(off);
  const crc = crc32c(buf.subarray(off + 8, off + HEADER_SIZE + len), crc32c(buf.subarray(off, off + 4)));
  buf.writeUInt32LE(crc, off + 4);
  return buf;
}

/** What a reader hands out, as plain values (payload bytes in hex). */
function plain(r: RawRecord) {
  return { ...r, payload: r.payload.toString('hex') };
}

function drain(reader: RecordReader, into: RawRecord[]): void {
  for (let r = reader.next(); r !== null; r = reader.next()) into.push(r);
}

function readWhole(buf: Buffer, options?: ReadOptions): { records: RawRecord[]; stop: ReadStop | null } {
  const reader = bufferReader(buf, options);
  const records: RawRecord[] = [];
  drain(reader, records);
  return { records, stop: reader.stop };
}

/** Pushes `buf` cut at `cuts`, reading after every push, then ends it. */
function readChunked(
  buf: Buffer,
  cuts: number[],
  options?: ReadOptions,
): { records: RawRecord[]; stop: ReadStop | null; stopsBeforeEnd: Array<ReadStop | null> } {
  const reader = new RecordReader(options);
  const records: RawRecord[] = [];
  const stopsBeforeEnd: Array<ReadStop | null> = [];
  let from = 0;
  for (const cut of [...cuts, buf.length]) {
    if (reader.stop) break;
    reader.push(buf.subarray(from, cut));
    from = cut;
    drain(reader, records);
    stopsBeforeEnd.push(reader.stop);
  }
  if (!reader.stop) reader.end();
  drain(reader, records);
  return { records, stop: reader.stop, stopsBeforeEnd };
}

function log(n: number, payloadSize = (i: number) => i * 7, firstSeq = 1): Buffer {
  return Buffer.concat(
    Array.from({ length: n }, (_, i) =>
      encodeRecord(firstSeq + i, 1000 + i, RecordType.OrderCancel, Buffer.alloc(payloadSize(i), i + 1)),
    ),
  );
}

const rotation = (seq: number) =>
  encodeRecord(seq, 1, RecordType.Rotation, encodeRotation({ sealedSegment: 1 }));

describe('RecordReader: why it stops', () => {
  const two = log(2);
  const second = encodeRecord(2, 1001, RecordType.OrderCancel, Buffer.alloc(7, 2));
  const at = two.length - second.length;

  it('at a clean end, empty bytes included', () => {
    expect(readWhole(Buffer.alloc(0))).toEqual({
      records: [],
      stop: { kind: 'end', offset: 0, reason: expect.any(String) },
    });
    const { records, stop } = readWhole(two);
    expect(records.map((r) => r.seq)).toEqual([1, 2]);
    expect(stop).toMatchObject({ kind: 'end', offset: two.length });
  });

  it.each([
    { name: 'header cut short', cut: HEADER_SIZE - 1 },
    { name: 'payload cut short', cut: HEADER_SIZE + 5 },
    { name: 'last payload byte missing', cut: HEADER_SIZE + 6 },
    { name: 'one byte of the next record', cut: 1 },
  ])('torn: $name', ({ cut }) => {
    const { records, stop } = readWhole(two.subarray(0, at + cut));
    expect(records.map((r) => r.seq)).toEqual([1]);
    expect(stop).toEqual({ kind: 'torn', offset: at, reason: `ends ${cut} bytes into a record (truncated)` });
  });

  it('reads a last record whose zero padding is missing (all of its data is there), unless told not to', () => {
    const unpadded = two.subarray(0, at + HEADER_SIZE + 7);
    expect(second.length).toBeGreaterThan(HEADER_SIZE + 7);
    const { records, stop } = readWhole(unpadded);
    expect(records.map((r) => [r.seq, r.offset, r.size])).toEqual([
      [1, 0, at],
      [2, at, second.length],
    ]);
    // Where the next record would start: after the padding.
    expect(stop).toMatchObject({ kind: 'end', offset: two.length });
    expect(readWhole(unpadded, { requirePadding: true }).stop).toEqual({
      kind: 'torn',
      offset: at,
      reason: `ends ${HEADER_SIZE + 7} bytes into a record (truncated)`,
    });
  });

  it.each([
    {
      name: 'bad magic',
      edit: (b: Buffer) => b.writeUInt32LE(0x12345678, 28),
      kind: 'bad-magic',
      reason: /magic/,
    },
    { name: 'zeros', edit: (b: Buffer) => b.fill(0), kind: 'bad-magic', reason: /magic/ },
    {
      name: 'implausible length',
      edit: (b: Buffer) => b.writeUInt32LE(MAX_PAYLOAD + 1, 0),
      kind: 'bad-length',
      reason: /implausible length/,
    },
    {
      name: 'checksum mismatch',
      edit: (b: Buffer) => b.writeUInt32LE((b.readUInt32LE(4) ^ 1) >>> 0, 4),
      kind: 'bad-checksum',
      reason: /checksum mismatch/,
    },
    {
      name: 'a flipped payload bit',
      edit: (b: Buffer) => (b[HEADER_SIZE]! ^= 4),
      kind: 'bad-checksum',
      reason: /checksum mismatch/,
    },
    {
      name: 'unknown record type',
      edit: (b: Buffer) => reseal(b.fill(42, 24, 25)),
      kind: 'bad-type',
      reason: /unknown record type 42/,
    },
    {
      name: 'record type 0',
      edit: (b: Buffer) => reseal(b.fill(0, 24, 25)),
      kind: 'bad-type',
      reason: /unknown record type 0/,
    },
    {
      name: 'unsupported version',
      edit: (b: Buffer) => reseal(b.fill(9, 25, 26)),
      kind: 'bad-version',
      reason: /unsupported format version 9/,
    },
  ])('$kind: $name, at the offset of the damaged record', ({ edit, kind, reason }) => {
    const buf = Buffer.concat([two, encodeRecord(3, 5, RecordType.OrderNew, Buffer.from('x'.repeat(13)))]);
    edit(buf.subarray(two.length));
    const { records, stop } = readWhole(buf);
    expect(records.map((r) => r.seq)).toEqual([1, 2]);
    expect(stop).toMatchObject({ kind, offset: two.length });
    expect(stop!.reason).toMatch(reason);
  });

  it('sequence: a record that does not follow its predecessor, or is not the one expected first', () => {
    const gap = Buffer.concat([log(2), log(1, undefined, 4)]);
    expect(readWhole(gap).stop).toEqual({
      kind: 'sequence',
      offset: two.length,
      reason: 'sequence 4 follows 2',
    });
    expect(readWhole(two, { expectSeq: 2 }).stop).toEqual({
      kind: 'sequence',
      offset: 0,
      reason: 'sequence 1 where 2 was expected',
    });
    expect(readWhole(two, { expectSeq: 1 }).stop?.kind).toBe('end');
  });

  it('after-rotation: a Rotation record ends its segment', () => {
    const r = rotation(3);
    const buf = Buffer.concat([two, r, log(1, undefined, 4)]);
    const { records, stop } = readWhole(buf);
    expect(records.map((x) => x.type)).toEqual([
      RecordType.OrderCancel,
      RecordType.OrderCancel,
      RecordType.Rotation,
    ]);
    expect(stop).toEqual({
      kind: 'after-rotation',
      offset: two.length + r.length,
      reason: 'record after a rotation record',
    });
    // Whatever its sequence: nothing may follow the record that ends a segment.
    expect(readWhole(Buffer.concat([two, r, log(1)])).stop?.kind).toBe('after-rotation');
  });

  it('until: stops before the record it picks, which is not handed out', () => {
    const buf = log(5);
    const { records, stop } = readWhole(buf, { until: (seq) => seq > 3 });
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(stop).toMatchObject({ kind: 'until', offset: records[2]!.offset + records[2]!.size });
    expect(readWhole(buf, { until: (_seq, ts) => ts >= 1000 }).records).toEqual([]);
    // It is asked first: a record past the point asked for is not judged (a restore cut there).
    const gap = Buffer.concat([log(2), log(1, undefined, 9)]);
    expect(readWhole(gap, { until: (seq) => seq > 2 }).stop?.kind).toBe('until');
  });

  it('skips the checksums of bytes it is told were verified before, nothing else', () => {
    const flipped = Buffer.from(two);
    flipped[at + HEADER_SIZE]! ^= 1;
    expect(readWhole(flipped).stop).toMatchObject({ kind: 'bad-checksum', offset: at });
    const { records, stop } = readWhole(flipped, { verified: true });
    expect(records.map((r) => r.seq)).toEqual([1, 2]);
    expect(stop?.kind).toBe('end');
    // Framing that needs no checksum is still read: a torn end stays torn.
    expect(readWhole(two.subarray(0, at + 3), { verified: true }).stop?.kind).toBe('torn');
  });

  it('counts offsets from the offset given, and hands out nothing more once stopped', () => {
    const reader = bufferReader(Buffer.concat([two, Buffer.alloc(8)]), { offset: 4096 });
    const records: RawRecord[] = [];
    drain(reader, records);
    expect(records.map((r) => r.offset)).toEqual([4096, 4096 + at]);
    expect(reader.stop).toMatchObject({ kind: 'torn', offset: 4096 + two.length });
    expect(reader.next()).toBeNull();
    expect(() => reader.push(two)).toThrow(/after end/);
  });

  it('waits for more bytes (stop null) until end() says there are none', () => {
    const reader = new RecordReader();
    reader.push(two.subarray(0, 10));
    expect(reader.next()).toBeNull();
    expect(reader.stop).toBeNull();
    reader.push(two.subarray(10, at + 3));
    expect(reader.next()?.seq).toBe(1);
    expect(reader.next()).toBeNull();
    expect(reader.stop).toBeNull();
    reader.end();
    expect(reader.next()).toBeNull();
    expect(reader.stop).toMatchObject({ kind: 'torn', offset: at });
  });
});

describe('RecordReader: chunk boundaries', () => {
  const recordArb = fc.record({
    size: fc.oneof(fc.nat(40), fc.integer({ min: 41, max: 600 })),
    type: fc.constantFrom(
      RecordType.OrderNew,
      RecordType.OrderUpdate,
      RecordType.OrderFill,
      RecordType.OrderCancel,
      RecordType.Checkpoint,
    ),
    fill: fc.nat(255),
  });
  const damageArb = fc.oneof(
    fc.constant({ k: 'none' as const }),
    fc.record({ k: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ k: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
    fc.record({ k: fc.constant('append' as const), bytes: fc.uint8Array({ maxLength: 80 }) }),
  );
  const logArb = fc
    .tuple(fc.array(recordArb, { maxLength: 12 }), damageArb, fc.boolean())
    .map(([recs, damage, rotate]) => {
      const parts = recs.map((r, i) => encodeRecord(i + 1, 5000 + i, r.type, Buffer.alloc(r.size, r.fill)));
      if (rotate) parts.push(rotation(recs.length + 1));
      let buf = Buffer.concat(parts);
      if (damage.k === 'cut') buf = buf.subarray(0, damage.at % (buf.length + 1));
      if (damage.k === 'flip' && buf.length > 0) buf[damage.at % buf.length]! ^= 1 << damage.bit;
      if (damage.k === 'append') buf = Buffer.concat([buf, damage.bytes]);
      return buf;
    });
  const cutsArb = (len: number) =>
    fc.uniqueArray(fc.integer({ min: 0, max: len }), { maxLength: 40 }).map((c) => c.sort((a, b) => a - b));
  const optionsArb = fc.record({
    requirePadding: fc.boolean(),
    expectSeq: fc.constantFrom(null, 1, 2),
    offset: fc.constantFrom(0, 8, 65536),
  });

  it('reads the same records and stops the same way however the bytes are cut', () => {
    fc.assert(
      fc.property(
        logArb.chain((buf) => fc.tuple(fc.constant(buf), cutsArb(buf.length), optionsArb)),
        ([buf, cuts, options]) => {
          const whole = readWhole(buf, options);
          const chunked = readChunked(buf, cuts, options);
          expect(chunked.records.map(plain)).toEqual(whole.records.map(plain));
          expect(chunked.stop).toEqual(whole.stop);
          // Before end(), the reader only stops for what more bytes cannot change.
          for (const s of chunked.stopsBeforeEnd) if (s) expect(['end', 'torn']).not.toContain(s.kind);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('reads every record of an intact log whatever the chunk size, split records included', () => {
    const buf = Buffer.concat([log(30, (i) => (i * 37) % 300), rotation(31)]);
    for (const size of [1, 3, 8, 31, 32, 33, 100, 1000, buf.length]) {
      const cuts = [];
      for (let c = size; c < buf.length; c += size) cuts.push(c);
      const { records, stop } = readChunked(buf, cuts, { requirePadding: true, expectSeq: 1 });
      expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
      expect(stop).toMatchObject({ kind: 'end', offset: buf.length });
    }
  });

  it('copies only a record split across chunks: the others point into the chunk they came in', () => {
    // Buffer.alloc never hands out the shared pool, so each chunk has an ArrayBuffer of its own.
    const own = (buf: Buffer): Buffer => {
      const out = Buffer.alloc(buf.length);
      buf.copy(out);
      return out;
    };
    const bytes = log(6, () => 100);
    const size = bytes.length / 6;
    const a = own(bytes.subarray(0, 2 * size + 50));
    const b = own(bytes.subarray(2 * size + 50));
    const reader = new RecordReader();
    const records: RawRecord[] = [];
    reader.push(a);
    reader.push(b);
    reader.end();
    drain(reader, records);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    const from = records.map((r) =>
      r.payload.buffer === a.buffer ? 'a' : r.payload.buffer === b.buffer ? 'b' : 'copy',
    );
    expect(from).toEqual(['a', 'a', 'copy', 'b', 'b', 'b']);
  });
});

describe('RecordReader.own', () => {
  it('keeps what it still needs when every chunk is overwritten as soon as it was pushed', () => {
    // Records up to 3000 bytes in chunks of 1 to 700: some records span several chunks.
    const buf = Buffer.concat([log(40, (i) => (i * 577) % 3000), rotation(41)]);
    for (const size of [1, 7, 100, 700]) {
      const reader = new RecordReader({ requirePadding: true, expectSeq: 1 });
      const chunk = Buffer.alloc(size);
      const seqs: number[] = [];
      const payloads: string[] = [];
      for (let at = 0; at < buf.length; at += size) {
        const n = buf.copy(chunk, 0, at, at + size);
        reader.push(chunk.subarray(0, n));
        while (reader.advance()) {
          seqs.push(reader.seq);
          payloads.push(reader.payload.toString('hex'));
        }
        reader.own();
        chunk.fill(0xee);
      }
      reader.end();
      expect(reader.advance()).toBe(false);
      expect(reader.stop).toMatchObject({ kind: 'end', offset: buf.length });
      expect(seqs).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
      expect(payloads).toEqual(readWhole(buf).records.map((r) => r.payload.toString('hex')));
    }
  });
});

describe('readSegmentFile', () => {
  const buf = Buffer.concat([log(6, (i) => (i === 3 ? 5000 : i * 9)), Buffer.alloc(5)]);

  async function withFile<T>(fn: (fh: Awaited<ReturnType<typeof open>>) => Promise<T>): Promise<T> {
    const path = join(await dirs.make(), 'seg.wal');
    await writeFile(path, buf);
    const fh = await open(path, 'r');
    try {
      return await fn(fh);
    } finally {
      await fh.close();
    }
  }

  it('reads in chunks smaller than a record, from an offset, and says why it stopped', async () => {
    const all = readWhole(buf);
    const from = all.records[2]!;
    const got: RawRecord[] = [];
    const reader = new RecordReader({ offset: from.offset, expectSeq: 3 });
    await withFile((fh) => readSegmentFile(fh, reader, (r) => got.push(r) > 0, 64));
    expect(got.map(plain)).toEqual(all.records.slice(2).map(plain));
    expect(reader.position).toBe(buf.length);
    expect(reader.stop).toEqual(all.stop);
    expect(reader.stop?.kind).toBe('torn');
  });

  it('stops where `each` says, with no stop of its own', async () => {
    const got: Array<[number, number]> = [];
    const reader = new RecordReader();
    await withFile((fh) =>
      readSegmentFile(
        fh,
        reader,
        (r) => {
          got.push([r.seq, reader.crc]);
          return r.seq < 4;
        },
        100,
      ),
    );
    expect(got).toEqual(
      readWhole(buf)
        .records.slice(0, 4)
        .map((r) => [r.seq, buf.readUInt32LE(r.offset + 4)]),
    );
    expect(reader.stop).toBeNull();
  });
});

describe('firstRecordHeader', () => {
  it('reads the first header as written, or null when the bytes cannot hold one', async () => {
    const dir = await dirs.make();
    const rec = encodeRecord(77, 1234, RecordType.Checkpoint, Buffer.from('{}'));
    const cases: Array<[Buffer, number | undefined, boolean]> = [
      [rec, undefined, true],
      [rec, HEADER_SIZE, true],
      [rec, HEADER_SIZE - 1, false],
      [rec.subarray(0, HEADER_SIZE - 1), undefined, false],
      [Buffer.alloc(0), undefined, false],
    ];
    for (const [bytes, size, found] of cases) {
      const path = join(dir, 'seg.wal');
      await writeFile(path, bytes);
      const fh = await open(path, 'r');
      try {
        const head = await firstRecordHeader(fh, size);
        if (found) {
          expect(head).toEqual({ length: 2, crc: rec.readUInt32LE(4), seq: 77, timestamp: 1234, type: 5 });
        } else {
          expect(head).toBeNull();
        }
      } finally {
        await fh.close();
      }
    }
  });
});

describe('scanForRecords', () => {
  it('finds every valid record on an 8-byte boundary among damage, from where it is told', () => {
    const a = log(2);
    const b = log(2, undefined, 7);
    const buf = Buffer.concat([a, Buffer.alloc(24, 0xee), Buffer.from('not a record'), Buffer.alloc(4), b]);
    buf[3]! ^= 1; // the first record's length: it no longer checks out
    const found = [...scanForRecords(buf)];
    expect(found.map((r) => r.seq)).toEqual([2, 7, 8]);
    expect(found.map((r) => r.offset)).toEqual([
      a.length - encodeRecord(2, 1001, RecordType.OrderCancel, Buffer.alloc(7)).length,
      a.length + 40,
      a.length + 40 + encodeRecord(7, 1000, RecordType.OrderCancel, Buffer.alloc(0)).length,
    ]);
    expect([...scanForRecords(buf, a.length + 1)].map((r) => r.seq)).toEqual([7, 8]);
  });
});
