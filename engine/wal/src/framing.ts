// On-disk framing of one WAL record: the only file that knows the byte layout. Other modules of
// this package read records through reader.ts; other packages see `./format` (record types, the
// record shape) and never a header offset. Every record starts 8-byte aligned:
//
//   0  u32  payload length
//   4  u32  CRC32C of bytes 0..4 and 8..(32 + length)   (everything but the CRC itself)
//   8  u64  sequence number (contiguous across segments, first record is 1; only a SequenceJump
//           record may skip ahead, and it names the record it follows)
//  16  u64  timestamp, ms since the epoch (for point-in-time restore)
//  24  u8   record type
//  25  u8   format version
//  26  u16  flags (reserved, 0)
//  28  u32  magic "VZWL"
//  32  ...  payload, then zero padding to the next multiple of 8
import { crc32cSkipping } from './crc32c.ts';

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
  /** Trading halted or resumed (payloads.ts, TradingHaltPayload); older logs have none. */
  TradingHalt: 7,
  /**
   * A declared gap (payloads.ts, SequenceJumpPayload): records after the one it names were lost
   * and truncate_at_corruption accepted it, so the log continues above every sequence it ever
   * held instead of writing those numbers again. Older logs have none; older readers refuse it.
   */
  SequenceJump: 8,
  /**
   * One strategy halted by a guardrail, or resumed (payloads.ts, StrategyHaltPayload); older logs
   * have none, and an engine older than this type refuses a log that has one (ADR 0020).
   */
  StrategyHalt: 9,
  /**
   * A checkpoint kept in its own file (snapshot-file.ts, CheckpointRefPayload): appended once the
   * file is durable, it stands where a Checkpoint record would. Older logs have none; an engine
   * older than this type refuses a log that has one (ADR 0019).
   */
  CheckpointRef: 10,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];
export const RECORD_TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(RecordType).map(([k, v]) => [v, k]),
);
/** 1 at the index of every known record type (a check per record on replay: no property lookup). */
const KNOWN_TYPES = new Uint8Array(256);
for (const v of Object.values(RecordType)) KNOWN_TYPES[v] = 1;

/** A record that starts the state: an inline checkpoint or a reference to a checkpoint file. */
export function isCheckpoint(type: number): boolean {
  return type === RecordType.Checkpoint || type === RecordType.CheckpointRef;
}

/** One decoded record. */
export interface RawRecord {
  seq: number;
  timestamp: number;
  type: RecordType;
  payload: Buffer;
  /** Byte offset of the record in its segment (for reports and truncation). */
  offset: number;
  /** Bytes the record takes in its segment, padding included. */
  size: number;
}

/** A record header's fields as they are on disk, not checked. */
export interface RecordHeader {
  length: number;
  crc: number;
  seq: number;
  timestamp: number;
  type: number;
}

export function alignedSize(payloadLength: number): number {
  return (HEADER_SIZE + payloadLength + 7) & ~7;
}

const TWO32 = 2 ** 32;

export function writeU64(buf: Buffer, off: number, v: number): void {
  buf.writeUInt32LE(v % TWO32, off);
  buf.writeUInt32LE(Math.floor(v / TWO32), off + 4);
}

/**
 * The little-endian u32 at `off`, which must lie within `buf` (callers check the length first).
 * Indexing inlines where Buffer.readUInt32LE, called for every header field on replay, did not.
 */
function u32(buf: Buffer, off: number): number {
  return (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0;
}

export function readU64(buf: Buffer, off: number): number {
  const high = u32(buf, off + 4);
  // Sequence numbers fit in the low word: left alone they stay small integers for the JIT, where
  // the sum would be a float (and a field holding it would deoptimize the reader).
  return high === 0 ? u32(buf, off) : u32(buf, off) + high * TWO32;
}

function recordCrc(buf: Buffer, off: number, payloadLength: number): number {
  return crc32cSkipping(buf, off, off + 8, off + HEADER_SIZE + payloadLength);
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

/** The CRC32C an encoded record carries. */
export function encodedCrc(record: Buffer): number {
  return record.readUInt32LE(4);
}

/** Why bytes at a record boundary are not a record. */
export type FrameFault = 'bad-magic' | 'bad-length' | 'bad-checksum' | 'bad-type' | 'bad-version';

/** The payload length a header at `off` states (HEADER_SIZE bytes must be there). */
export function payloadLength(buf: Buffer, off: number): number {
  return u32(buf, off);
}

/** What rules the header at `off` (stating `length`) out as the start of a record, or null. */
export function headerFault(buf: Buffer, off: number, length: number): FrameFault | null {
  if (u32(buf, off + 28) !== MAGIC) return 'bad-magic';
  if (length > MAX_PAYLOAD) return 'bad-length';
  return null;
}

/**
 * With a sound header and all of the record's data at `off` (`length` from its header): what is
 * wrong with it, or null.
 */
export function recordFault(buf: Buffer, off: number, length: number): FrameFault | null {
  if (recordCrc(buf, off, length) !== u32(buf, off + 4)) return 'bad-checksum';
  if (KNOWN_TYPES[buf[off + 24]!] !== 1) return 'bad-type';
  if (buf[off + 25] !== FORMAT_VERSION) return 'bad-version';
  return null;
}

export function faultReason(fault: FrameFault, buf: Buffer, off: number): string {
  switch (fault) {
    case 'bad-magic':
      return 'bad record magic';
    case 'bad-length':
      return `implausible length ${buf.readUInt32LE(off)}`;
    case 'bad-checksum':
      return 'checksum mismatch';
    case 'bad-type':
      return `unknown record type ${buf.readUInt8(off + 24)}`;
    case 'bad-version':
      return `unsupported format version ${buf.readUInt8(off + 25)}`;
  }
}

/** The sequence number of the record at `off` (its header checked before). */
export function recordSeq(buf: Buffer, off: number): number {
  return readU64(buf, off + 8);
}

/** The timestamp of the record at `off` (its header checked before). */
export function recordTimestamp(buf: Buffer, off: number): number {
  return readU64(buf, off + 16);
}

/** The type of the record at `off` (checked before). */
export function recordType(buf: Buffer, off: number): RecordType {
  return buf[off + 24] as RecordType;
}

/**
 * The record at `off` of `buf` (`length` from its header), which lies at `segmentOffset` in its
 * segment. Checked before.
 */
export function recordAt(buf: Buffer, off: number, length: number, segmentOffset: number): RawRecord {
  return {
    seq: readU64(buf, off + 8),
    timestamp: readU64(buf, off + 16),
    type: buf.readUInt8(off + 24) as RecordType,
    payload: buf.subarray(off + HEADER_SIZE, off + HEADER_SIZE + length),
    offset: segmentOffset,
    size: alignedSize(length),
  };
}

/** The CRC32C the record at `off` carries. */
export function storedCrc(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off + 4);
}

export function readHeader(buf: Buffer, off: number): RecordHeader {
  return {
    length: buf.readUInt32LE(off),
    crc: buf.readUInt32LE(off + 4),
    seq: readU64(buf, off + 8),
    timestamp: readU64(buf, off + 16),
    type: buf.readUInt8(off + 24),
  };
}
