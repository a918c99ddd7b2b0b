import { crc32c } from '@node-rs/crc32';
import { describe, expect, it } from 'vitest';
import { BinaryReader, BinaryWriter, PayloadError } from './binary.ts';
import {
  CURRENT_SEGMENT,
  FORMAT_VERSION,
  HEADER_SIZE,
  MAGIC,
  MAX_PAYLOAD,
  RecordType,
  SEALED_SEGMENT,
  alignedSize,
  decodeRecordAt,
  encodeRecord,
  readU64,
  sealedSegmentName,
  writeU64,
} from './format.ts';

/** Re-seals a hand-edited record with a valid checksum, to reach the checks behind the CRC. */
function reseal(buf: Buffer, off = 0): Buffer {
  const len = buf.readUInt32LE(off);
  const crc = crc32c(buf.subarray(off + 8, off + HEADER_SIZE + len), crc32c(buf.subarray(off, off + 4)));
  buf.writeUInt32LE(crc, off + 4);
  return buf;
}

describe('record framing', () => {
  it('uses CRC32C (Castagnoli)', () => {
    expect(crc32c('123456789')).toBe(0xe3069283);
  });

  it.each([0, 1, 7, 8, 9, 15, 16, 17, 24, 25, 100, 4096])(
    'lays out a record with a %i-byte payload',
    (len) => {
      const payload = Buffer.alloc(len, 0xab);
      const buf = encodeRecord(2 ** 40 + 3, 1_700_000_000_123, RecordType.OrderFill, payload);
      expect(buf.length).toBe(alignedSize(len));
      expect(buf.length % 8).toBe(0);
      expect(buf.length - HEADER_SIZE - len).toBeLessThan(8);
      expect(buf.readUInt32LE(0)).toBe(len);
      expect(readU64(buf, 8)).toBe(2 ** 40 + 3);
      expect(readU64(buf, 16)).toBe(1_700_000_000_123);
      expect(buf[24]).toBe(RecordType.OrderFill);
      expect(buf[25]).toBe(FORMAT_VERSION);
      expect(buf.readUInt16LE(26)).toBe(0);
      expect(buf.readUInt32LE(28)).toBe(MAGIC);
      expect(buf.subarray(28, 32).toString('latin1')).toBe('VZWL');
      expect(buf.subarray(HEADER_SIZE, HEADER_SIZE + len).equals(payload)).toBe(true);
      expect(buf.subarray(HEADER_SIZE + len).every((b) => b === 0)).toBe(true);
      const crc = crc32c(buf.subarray(8, HEADER_SIZE + len), crc32c(buf.subarray(0, 4)));
      expect(buf.readUInt32LE(4)).toBe(crc);

      const d = decodeRecordAt(buf, 0);
      expect(d).toMatchObject({
        ok: true,
        record: { seq: 2 ** 40 + 3, timestamp: 1_700_000_000_123, type: RecordType.OrderFill, offset: 0 },
      });
      if (d.ok) {
        expect(d.record.size).toBe(buf.length);
        expect(d.record.payload.equals(payload)).toBe(true);
      }
    },
  );

  it('decodes consecutive records at their offsets', () => {
    const a = encodeRecord(1, 10, RecordType.OrderNew, Buffer.from('first'));
    const b = encodeRecord(2, 11, RecordType.OrderCancel, Buffer.from('second record'));
    const buf = Buffer.concat([a, b]);
    const first = decodeRecordAt(buf, 0);
    expect(first.ok).toBe(true);
    const second = decodeRecordAt(buf, a.length);
    expect(second).toMatchObject({ ok: true, record: { seq: 2, offset: a.length, size: b.length } });
    if (second.ok) expect(second.record.payload.toString()).toBe('second record');
  });

  it('never accepts a single flipped bit in the header or payload', () => {
    const rec = encodeRecord(77, 123456, RecordType.OrderUpdate, Buffer.from('payload!!'));
    const covered = HEADER_SIZE + 9;
    for (let byte = 0; byte < covered; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = Buffer.from(rec);
        bad[byte]! ^= 1 << bit;
        const d = decodeRecordAt(bad, 0);
        expect(d.ok, `byte ${byte} bit ${bit}`).toBe(false);
      }
    }
  });

  it('does not checksum the zero padding, which carries no data', () => {
    const rec = encodeRecord(1, 1, RecordType.OrderNew, Buffer.from('abc'));
    rec[rec.length - 1] = 0xff;
    expect(decodeRecordAt(rec, 0)).toMatchObject({ ok: true, record: { seq: 1 } });
  });

  it.each([
    { name: 'empty buffer', mutate: (b: Buffer) => b.subarray(0, 0) },
    { name: 'header cut short', mutate: (b: Buffer) => b.subarray(0, HEADER_SIZE - 1) },
    { name: 'payload cut short', mutate: (b: Buffer) => b.subarray(0, HEADER_SIZE + 5) },
    { name: 'last payload byte missing', mutate: (b: Buffer) => b.subarray(0, HEADER_SIZE + 19) },
  ])('reports $name as incomplete', ({ mutate }) => {
    const rec = encodeRecord(1, 1, RecordType.OrderNew, Buffer.alloc(20, 1));
    expect(decodeRecordAt(mutate(rec), 0)).toMatchObject({ ok: false, kind: 'incomplete' });
  });

  it('accepts a record whose padding is missing at the end of the buffer (all its data is there)', () => {
    const rec = encodeRecord(1, 1, RecordType.OrderNew, Buffer.alloc(20, 1));
    expect(decodeRecordAt(rec.subarray(0, HEADER_SIZE + 20), 0)).toMatchObject({ ok: true });
  });

  it.each([
    {
      name: 'bad magic',
      edit: (b: Buffer) => b.writeUInt32LE(0x12345678, 28),
      reason: /magic/,
    },
    {
      name: 'zeros',
      edit: (b: Buffer) => b.fill(0),
      reason: /magic/,
    },
    {
      name: 'implausible length',
      edit: (b: Buffer) => b.writeUInt32LE(MAX_PAYLOAD + 1, 0),
      reason: /implausible length/,
    },
    {
      name: 'checksum mismatch',
      edit: (b: Buffer) => b.writeUInt32LE((b.readUInt32LE(4) ^ 1) >>> 0, 4),
      reason: /checksum/,
    },
    {
      name: 'unknown record type',
      edit: (b: Buffer) => reseal(b.fill(42, 24, 25)),
      reason: /unknown record type 42/,
    },
    {
      name: 'record type 0',
      edit: (b: Buffer) => reseal(b.fill(0, 24, 25)),
      reason: /unknown record type 0/,
    },
    {
      name: 'unsupported version',
      edit: (b: Buffer) => reseal(b.fill(9, 25, 26)),
      reason: /unsupported format version 9/,
    },
  ])('reports $name as corrupt', ({ edit, reason }) => {
    const rec = encodeRecord(5, 5, RecordType.OrderNew, Buffer.from('x'.repeat(13)));
    edit(rec);
    const d = decodeRecordAt(rec, 0);
    expect(d).toMatchObject({ ok: false, kind: 'corrupt' });
    if (!d.ok) expect(d.reason).toMatch(reason);
  });

  it.each([0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 52 + 12345, Number.MAX_SAFE_INTEGER])(
    'stores %i as a little-endian u64',
    (v) => {
      const b = Buffer.alloc(8);
      writeU64(b, 0, v);
      expect(b.readBigUInt64LE(0)).toBe(BigInt(v));
      expect(readU64(b, 0)).toBe(v);
    },
  );
});

describe('segment names', () => {
  it.each([
    { n: 1, name: 'orders_0000000000000001.wal' },
    { n: 42, name: 'orders_0000000000000042.wal' },
    { n: 1234567890123456, name: 'orders_1234567890123456.wal' },
  ])('sealed segment $n is $name', ({ n, name }) => {
    expect(sealedSegmentName(n)).toBe(name);
    expect(SEALED_SEGMENT.exec(name)?.[1]).toBe(String(n).padStart(16, '0'));
  });

  it.each([
    CURRENT_SEGMENT,
    'orders_1.wal',
    'orders_00000000000000001.wal',
    'orders_0000000000000001.wal.tmp',
    'xorders_0000000000000001.wal',
    'orders_000000000000000a.wal',
  ])('%s is not a sealed segment name', (name) => {
    expect(SEALED_SEGMENT.test(name)).toBe(false);
  });

  it('names the current segment as in the seeds', () => {
    expect(CURRENT_SEGMENT).toBe('orders_current.wal');
  });
});

describe('BinaryWriter / BinaryReader', () => {
  it('round-trips fields and grows its buffer', () => {
    const w = new BinaryWriter(1);
    const long = 'ü'.repeat(3000);
    w.u8(0).u8(255).u64(0).u64(Number.MAX_SAFE_INTEGER).str('').str('héllo 🚀').str(long);
    const r = new BinaryReader(w.done());
    expect([r.u8(), r.u8(), r.u64(), r.u64(), r.str(), r.str(), r.str()]).toEqual([
      0,
      255,
      0,
      Number.MAX_SAFE_INTEGER,
      '',
      'héllo 🚀',
      long,
    ]);
    expect(() => r.end()).not.toThrow();
  });

  it.each([
    { name: 'negative u64', write: (w: BinaryWriter) => w.u64(-1), error: RangeError },
    { name: 'fractional u64', write: (w: BinaryWriter) => w.u64(1.5), error: RangeError },
    { name: 'unsafe u64', write: (w: BinaryWriter) => w.u64(2 ** 53), error: RangeError },
    { name: 'string over 64 KiB', write: (w: BinaryWriter) => w.str('x'.repeat(0x10000)), error: RangeError },
    // A lone surrogate would be written as U+FFFD and replay as a different string than the one
    // the live state holds.
    { name: 'lone surrogate', write: (w: BinaryWriter) => w.str('a\ud800b'), error: RangeError },
  ])('refuses a $name', ({ write, error }) => {
    expect(() => write(new BinaryWriter())).toThrow(error);
  });

  it('accepts a string of exactly 64 KiB - 1 bytes', () => {
    const s = 'x'.repeat(0xffff);
    expect(new BinaryReader(new BinaryWriter().str(s).done()).str()).toBe(s);
  });

  it.each([
    { name: 'u8 past the end', bytes: [], read: (r: BinaryReader) => r.u8(), msg: /shorter/ },
    { name: 'u64 past the end', bytes: [1, 2, 3], read: (r: BinaryReader) => r.u64(), msg: /shorter/ },
    {
      name: 'u64 beyond 2^53',
      bytes: [0, 0, 0, 0, 0, 0, 0x20, 0],
      read: (r: BinaryReader) => r.u64(),
      msg: /out of range/,
    },
    {
      name: 'string length past the end',
      bytes: [5, 0, 65],
      read: (r: BinaryReader) => r.str(),
      msg: /shorter/,
    },
    { name: 'string length cut', bytes: [5], read: (r: BinaryReader) => r.str(), msg: /shorter/ },
    { name: 'trailing bytes', bytes: [1], read: (r: BinaryReader) => r.end(), msg: /trailing/ },
  ])('reports $name', ({ bytes, read, msg }) => {
    const r = new BinaryReader(Buffer.from(bytes));
    expect(() => read(r)).toThrow(PayloadError);
    expect(() => read(new BinaryReader(Buffer.from(bytes)))).toThrow(msg);
  });
});
