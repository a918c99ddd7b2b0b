import { crc32c } from '@node-rs/crc32';
import { describe, expect, it } from 'vitest';
import { BinaryReader, BinaryWriter, PayloadError } from './binary.ts';
import {
  FORMAT_VERSION,
  HEADER_SIZE,
  MAGIC,
  RecordType,
  alignedSize,
  encodeRecord,
  encodedCrc,
  readHeader,
  readU64,
  writeU64,
} from './framing.ts';
import { bufferReader } from './reader.ts';

/** The records of `buf` and why reading stopped. */
function read(buf: Buffer) {
  const reader = bufferReader(buf);
  const records = [];
  const crcs = [];
  for (let r = reader.next(); r !== null; r = reader.next()) {
    records.push(r);
    crcs.push(reader.crc);
  }
  return { records, crcs, stop: reader.stop };
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
      expect(encodedCrc(buf)).toBe(crc);
      expect(readHeader(buf, 0)).toEqual({
        length: len,
        crc,
        seq: 2 ** 40 + 3,
        timestamp: 1_700_000_000_123,
        type: RecordType.OrderFill,
      });

      const { records, crcs, stop } = read(buf);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({
        seq: 2 ** 40 + 3,
        timestamp: 1_700_000_000_123,
        type: RecordType.OrderFill,
        offset: 0,
        size: buf.length,
      });
      expect(crcs).toEqual([crc]);
      expect(records[0]!.payload.equals(payload)).toBe(true);
      expect(stop).toMatchObject({ kind: 'end', offset: buf.length });
    },
  );

  it('decodes consecutive records at their offsets', () => {
    const a = encodeRecord(1, 10, RecordType.OrderNew, Buffer.from('first'));
    const b = encodeRecord(2, 11, RecordType.OrderCancel, Buffer.from('second record'));
    const buf = Buffer.concat([a, b]);
    const { records } = read(buf);
    expect(records.map((r) => r.seq)).toEqual([1, 2]);
    expect(records[1]).toMatchObject({ seq: 2, offset: a.length, size: b.length });
    expect(records[1]!.payload.toString()).toBe('second record');
  });

  it('never accepts a single flipped bit in the header or payload', () => {
    const rec = encodeRecord(77, 123456, RecordType.OrderUpdate, Buffer.from('payload!!'));
    const covered = HEADER_SIZE + 9;
    for (let byte = 0; byte < covered; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = Buffer.from(rec);
        bad[byte]! ^= 1 << bit;
        const { records, stop } = read(bad);
        expect(records, `byte ${byte} bit ${bit}`).toEqual([]);
        expect(stop?.kind, `byte ${byte} bit ${bit}`).not.toBe('end');
      }
    }
  });

  it('does not checksum the zero padding, which carries no data', () => {
    const rec = encodeRecord(1, 1, RecordType.OrderNew, Buffer.from('abc'));
    rec[rec.length - 1] = 0xff;
    expect(read(rec)).toMatchObject({ records: [{ seq: 1 }], stop: { kind: 'end' } });
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

  it('decodes every string field as UTF-8, short ASCII ones too, whatever the bytes', () => {
    // Short ASCII strings are built without Buffer.toString: the same string for every length
    // and byte, and bytes that are not ASCII (valid UTF-8 or not) still decoded as UTF-8.
    const bytes = Buffer.alloc(80);
    for (let i = 0; i < bytes.length; i++) bytes[i] = 32 + ((i * 37) % 95);
    const tails = [[], [0x7f], [0x80], [0xc3, 0xa9], [0xff], [0xf0, 0x9f, 0x9a, 0x80], [0xe2, 0x82]];
    for (let len = 0; len <= 70; len++) {
      for (const tail of tails) {
        const field = Buffer.concat([bytes.subarray(0, len), Buffer.from(tail)]);
        const framed = Buffer.concat([Buffer.from([field.length & 0xff, field.length >> 8]), field]);
        expect(new BinaryReader(framed).str()).toBe(field.toString('utf8'));
      }
    }
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
