// On-disk framing of one WAL record. Every record starts 8-byte aligned:
//
//   0  u32  payload length
//   4  u32  CRC32C of bytes 0..4 and 8..(32 + length)   (everything but the CRC itself)
//   8  u64  sequence number (contiguous across segments, first record is 1)
//  16  u64  timestamp, ms since the epoch (for point-in-time restore)
//  24  u8   record type
//  25  u8   format version
//  26  u16  flags (reserved, 0)
//  28  u32  magic "VZWL"
//  32  ...  payload, then zero padding to the next multiple of 8
import { crc32c } from '@node-rs/crc32';

export const HEADER_SIZE = 32;
export const MAGIC = 0x4c575a56;
export const FORMAT_VERSION = 1;
/** Larger lengths are treated as corruption rather than trusted for an allocation. */
export const MAX_PAYLOAD = 256 * 1024 * 1024;

export const RecordType = {
  OrderNew: 1,
  OrderUpdate: 2,
  OrderFill: 3,
  OrderCancel: 4,
  Checkpoint: 5,
  Rotation: 6,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];
export const RECORD_TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(RecordType).map(([k, v]) => [v, k]),
);

export const CURRENT_SEGMENT = 'orders_current.wal';
export const SEALED_SEGMENT = /^orders_(\d{16})\.wal$/;

export function sealedSegmentName(n: number): string {
  return `orders_${String(n).padStart(16, '0')}.wal`;
}

export function alignedSize(payloadLength: number): number {
  return (HEADER_SIZE + payloadLength + 7) & ~7;
}

const TWO32 = 2 ** 32;

export function writeU64(buf: Buffer, off: number, v: number): void {
  buf.writeUInt32LE(v % TWO32, off);
  buf.writeUInt32LE(Math.floor(v / TWO32), off + 4);
}

export function readU64(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * TWO32;
}

// CRC32C (Castagnoli, reflected) table, for the 4-byte length prefix: computing those few bytes
// here saves a native call per record, which is most of the checksum cost on replay.
const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32cPrefix(buf: Buffer, off: number): number {
  let c = 0xffffffff;
  for (let i = off; i < off + 4; i++) c = CRC32C_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function recordCrc(buf: Buffer, off: number, payloadLength: number): number {
  return crc32c(buf.subarray(off + 8, off + HEADER_SIZE + payloadLength), crc32cPrefix(buf, off));
}

export function encodeRecord(seq: number, timestamp: number, type: RecordType, payload: Uint8Array): Buffer {
  const buf = Buffer.alloc(alignedSize(payload.length));
  buf.writeUInt32LE(payload.length, 0);
  writeU64(buf, 8, seq);
  writeU64(buf, 16, timestamp);
  buf.writeUInt8(type, 24);
  buf.writeUInt8(FORMAT_VERSION, 25);
  buf.writeUInt32LE(MAGIC, 28);
  buf.set(payload, HEADER_SIZE);
  buf.writeUInt32LE(recordCrc(buf, 0, payload.length), 4);
  return buf;
}

export interface RawRecord {
  seq: number;
  timestamp: number;
  type: RecordType;
  payload: Buffer;
  /** Byte offset of the record in its segment. */
  offset: number;
  size: number;
}

export type DecodeResult =
  | { ok: true; record: RawRecord }
  /** The buffer ends inside the record: a torn write, or the end of the data. */
  | { ok: false; kind: 'incomplete'; reason: string }
  | { ok: false; kind: 'corrupt'; reason: string };

export function decodeRecordAt(buf: Buffer, off: number): DecodeResult {
  if (buf.length - off < HEADER_SIZE) {
    return { ok: false, kind: 'incomplete', reason: `only ${buf.length - off} bytes left for a header` };
  }
  const length = buf.readUInt32LE(off);
  const magic = buf.readUInt32LE(off + 28);
  if (magic !== MAGIC) return { ok: false, kind: 'corrupt', reason: 'bad record magic' };
  if (length > MAX_PAYLOAD) return { ok: false, kind: 'corrupt', reason: `implausible length ${length}` };
  const size = alignedSize(length);
  if (buf.length - off < HEADER_SIZE + length) {
    return { ok: false, kind: 'incomplete', reason: `record of ${size} bytes cut short` };
  }
  const crc = buf.readUInt32LE(off + 4);
  if (recordCrc(buf, off, length) !== crc) return { ok: false, kind: 'corrupt', reason: 'checksum mismatch' };
  const type = buf.readUInt8(off + 24);
  if (!(type in RECORD_TYPE_NAMES))
    return { ok: false, kind: 'corrupt', reason: `unknown record type ${type}` };
  const version = buf.readUInt8(off + 25);
  if (version !== FORMAT_VERSION) {
    return { ok: false, kind: 'corrupt', reason: `unsupported format version ${version}` };
  }
  return {
    ok: true,
    record: {
      seq: readU64(buf, off + 8),
      timestamp: readU64(buf, off + 16),
      type: type as RecordType,
      payload: buf.subarray(off + HEADER_SIZE, off + HEADER_SIZE + length),
      offset: off,
      size,
    },
  };
}
