// The one WAL record reader. It decodes a segment from a buffer, from chunks as they stream past
// (a backup, a restore) or from a file (the shipping tail), and says precisely why it stopped:
// the bytes ended cleanly, ended inside a record (torn), or hold something that is not the next
// record. Recovery, verify, backup, restore and the shipping tail all read through it.
//
// Records are handed out as they complete, pointing into the bytes given (no copy); only a record
// split across chunks is copied, once, into a buffer of its own.
import type { FileHandle } from 'node:fs/promises';
import {
  HEADER_SIZE,
  RecordType,
  alignedSize,
  faultReason,
  headerFault,
  payloadLength,
  readHeader,
  recordAt,
  recordFault,
  recordSeq,
  recordTimestamp,
  recordType,
  storedCrc,
  type FrameFault,
  type RawRecord,
  type RecordHeader,
} from './framing.ts';
import { decodeSequenceJump } from './payloads.ts';

export type { RawRecord, RecordHeader } from './framing.ts';

export type StopKind =
  /** The bytes end on a record boundary (or, see `requirePadding`, in the last one's padding). */
  | 'end'
  /** The bytes end inside a record: its header or data cut short (an interrupted write). */
  | 'torn'
  /** Bytes that are not a record: bad magic, implausible length, checksum, type or version. */
  | FrameFault
  /** A valid record that does not carry the expected sequence number (and declares no jump to it). */
  | 'sequence'
  /** A SequenceJump record that cannot be read, or names a record it does not skip ahead of. */
  | 'bad-jump'
  /** A valid record after a Rotation record (which ends its segment). */
  | 'after-rotation'
  /** The first record `until` picked; it is not handed out. */
  | 'until';

export interface ReadStop {
  kind: StopKind;
  /** Offset in the segment where reading stopped: the end of the last record handed out. */
  offset: number;
  reason: string;
}

export interface ReadOptions {
  /** Offset in the segment of the first byte given, a record boundary (default 0). */
  offset?: number;
  /** The sequence the first record must carry (null: any); every later one follows its predecessor. */
  expectSeq?: number | null;
  /** Stop before the first record this picks (point-in-time reads). */
  until?: ((seq: number, timestamp: number) => boolean) | null;
  /**
   * Bytes that end inside the zero padding of the last record are torn. Otherwise that record is
   * read (all of its data is there): recovery keeps it, and the writer appends after its padding.
   * A copy of a segment (backup, restore) must hold every byte the writer wrote.
   */
  requirePadding?: boolean;
  /**
   * The bytes already went through a reader in this process and have not left memory since
   * (recovery replays what its scan checked): their checksums are not computed again.
   */
  verified?: boolean;
}

const EMPTY = Buffer.alloc(0);

/**
 * The record a reader stands on after advance() (the reader itself): its fields describe the
 * next record once the reader moves on, so copy what must outlive that (next() returns a copy).
 * `payload` makes a view of the payload; a replay reads `bytes` from `payloadStart` to
 * `payloadEnd` instead, which allocates nothing.
 */
export interface RecordView {
  readonly seq: number;
  readonly timestamp: number;
  readonly type: RecordType;
  /** Byte offset of the record in its segment. */
  readonly offset: number;
  /** Bytes the record takes in its segment, padding included. */
  readonly size: number;
  /** The bytes the record lies in (not its segment: a chunk, or a copy of a split record). */
  readonly bytes: Buffer;
  readonly payloadStart: number;
  readonly payloadEnd: number;
  readonly payload: Buffer;
}

/** The record `view` stands on as an object of its own, to keep. */
export function recordOf(view: RecordView): RawRecord {
  return {
    seq: view.seq,
    timestamp: view.timestamp,
    type: view.type,
    payload: view.payload,
    offset: view.offset,
    size: view.size,
  };
}

/**
 * Push bytes, call advance() (or next()) until it returns false (null), repeat; end() once no
 * more bytes will come. `stop` is null while more bytes may complete the next record.
 */
export class RecordReader implements RecordView {
  seq = 0;
  timestamp = 0;
  type: RecordType = RecordType.OrderNew;
  offset = 0;
  size = 0;
  bytes: Buffer = EMPTY;
  payloadStart = 0;
  payloadEnd = 0;
  private stopped: ReadStop | null = null;
  /** The bytes being decoded, and where the next record starts in them. */
  private cur: Buffer = EMPTY;
  private pos = 0;
  /** Offset in the segment of cur[0]. */
  private base: number;
  /** Chunks pushed while cur still held the start of a record. */
  private readonly queue: Buffer[] = [];
  private queued = 0;
  /** cur, and the first `queueOwned` chunks of the queue, are copies of the reader's own (own()). */
  private curOwned = false;
  private queueOwned = 0;
  private ended = false;
  private expectSeq: number | null;
  private first = true;
  private rotated = false;
  private readonly until: ((seq: number, timestamp: number) => boolean) | null;
  private readonly requirePadding: boolean;
  private readonly verified: boolean;

  constructor(options: ReadOptions = {}) {
    this.base = options.offset ?? 0;
    this.expectSeq = options.expectSeq ?? null;
    this.until = options.until ?? null;
    this.requirePadding = options.requirePadding ?? false;
    this.verified = options.verified ?? false;
  }

  push(chunk: Buffer): void {
    if (this.ended) throw new Error('RecordReader: push() after end()');
    if (chunk.length === 0) return;
    if (this.pos >= this.cur.length && this.queued === 0) {
      this.base += this.pos;
      this.cur = chunk;
      this.curOwned = false;
      this.pos = 0;
    } else {
      this.queue.push(chunk);
      this.queued += chunk.length;
    }
  }

  /** Why the reader stopped; null while it may hand out more records (once given more bytes). */
  get stop(): ReadStop | null {
    return this.stopped;
  }

  /** Offset in the segment just past the last byte pushed: where the next bytes belong. */
  get position(): number {
    return this.base + this.cur.length + this.queued;
  }

  /**
   * The CRC32C the record next() returned last carries (the shipping tail keeps it with the
   * record). Not a field of every record: a number that large is a heap allocation each time.
   */
  get crc(): number {
    return storedCrc(this.bytes, this.payloadStart - HEADER_SIZE);
  }

  get payload(): Buffer {
    return this.bytes.subarray(this.payloadStart, this.payloadEnd);
  }

  /**
   * Copies the bytes the reader still needs (a record not complete yet) out of the chunks pushed,
   * so their buffers may be reused once this returns. Only bytes pushed since the last call are
   * copied: a record spanning many chunks is copied once.
   */
  own(): void {
    if (!this.curOwned && this.pos < this.cur.length) {
      this.base += this.pos;
      this.cur = Buffer.from(this.cur.subarray(this.pos));
      this.pos = 0;
      this.curOwned = true;
    }
    for (let i = this.queueOwned; i < this.queue.length; i++) this.queue[i] = Buffer.from(this.queue[i]!);
    this.queueOwned = this.queue.length;
  }

  /** No more bytes will come: what is left is read, then classified (clean end or torn). */
  end(): void {
    this.ended = true;
  }

  /** The next record, or null: then `stop` says why, or is null while more bytes are needed. */
  next(): RawRecord | null {
    return this.advance() ? recordOf(this) : null;
  }

  /**
   * Moves onto the next record (its fields are the reader's, see RecordView) and returns true;
   * false when there is none: then `stop` says why, or is null while more bytes are needed.
   */
  advance(): boolean {
    if (this.stopped !== null) return false;
    for (;;) {
      const buf = this.cur;
      const off = this.pos;
      const avail = buf.length - off;
      let need = HEADER_SIZE;
      if (avail >= HEADER_SIZE) {
        const length = payloadLength(buf, off);
        const fault = headerFault(buf, off, length);
        if (fault !== null) return this.halt(fault, faultReason(fault, buf, off));
        need = alignedSize(length);
        if (avail >= need) return this.take(buf, off, length, need);
        const unpadded = avail >= HEADER_SIZE + length && !this.requirePadding;
        if (unpadded && this.ended && this.queued === 0) return this.take(buf, off, length, need);
      }
      if (this.gather(need)) continue;
      if (!this.ended || this.queued > 0) return false;
      if (avail <= 0) return this.halt('end', 'end of the data');
      return this.halt('torn', `ends ${avail} bytes into a record (truncated)`);
    }
  }

  /**
   * Brings `n` bytes from the current position into one buffer, from the queued chunks; false
   * when that is not possible yet. A split record is copied once, when all of it is there (or
   * all that will ever be, after end()).
   */
  private gather(n: number): boolean {
    if (this.queued === 0) return false;
    const avail = this.cur.length - this.pos;
    if (avail <= 0) {
      this.base += this.pos;
      this.cur = this.queue.shift()!;
      this.curOwned = this.queueOwned > 0;
      if (this.curOwned) this.queueOwned--;
      this.queued -= this.cur.length;
      this.pos = 0;
      return true;
    }
    if (avail + this.queued < n && !this.ended) return false;
    const want = Math.min(n, avail + this.queued);
    const parts = [this.cur.subarray(this.pos)];
    let got = avail;
    while (got < want) {
      const c = this.queue[0]!;
      const take = Math.min(want - got, c.length);
      if (take === c.length) {
        parts.push(c);
        this.queue.shift();
        if (this.queueOwned > 0) this.queueOwned--;
      } else {
        parts.push(c.subarray(0, take));
        this.queue[0] = c.subarray(take);
      }
      this.queued -= take;
      got += take;
    }
    this.base += this.pos;
    this.cur = Buffer.concat(parts, got);
    this.curOwned = true;
    this.pos = 0;
    return true;
  }

  /** Checks the record at `off` of cur (`size` bytes, or only its data at the very end) and takes it. */
  private take(buf: Buffer, off: number, length: number, size: number): boolean {
    const fault = this.verified ? null : recordFault(buf, off, length);
    if (fault !== null) return this.halt(fault, faultReason(fault, buf, off));
    const seq = recordSeq(buf, off);
    const timestamp = recordTimestamp(buf, off);
    const type = recordType(buf, off);
    if (this.until !== null && this.until(seq, timestamp)) {
      return this.halt('until', `record ${seq} is past the end asked for`);
    }
    // Nothing may follow the record that ends a segment, whatever its sequence.
    if (this.rotated) return this.halt('after-rotation', 'record after a rotation record');
    const expect = this.expectSeq;
    let jumpsFrom: number | null = null;
    if (type === RecordType.SequenceJump) {
      const payload = buf.subarray(off + HEADER_SIZE, off + HEADER_SIZE + length);
      jumpsFrom = jumpPrevious({ seq, payload });
      if (jumpsFrom === null) return this.halt('bad-jump', `record ${seq}: unreadable sequence jump`);
    }
    // A declared jump is accepted exactly: it must name the record it follows (so a jump that
    // names another, even one that happens to land on the next sequence, is refused).
    if (expect !== null && (jumpsFrom === null ? seq !== expect : jumpsFrom !== expect - 1)) {
      return this.halt(
        'sequence',
        jumpsFrom !== null
          ? `sequence jump ${seq} declares it follows ${jumpsFrom}, but ${expect - 1} precedes it`
          : this.first
            ? `sequence ${seq} where ${expect} was expected`
            : `sequence ${seq} follows ${expect - 1}`,
      );
    }
    this.first = false;
    this.expectSeq = seq + 1;
    this.rotated = type === RecordType.Rotation;
    this.seq = seq;
    this.timestamp = timestamp;
    this.type = type;
    this.offset = this.base + off;
    this.size = size;
    this.bytes = buf;
    this.payloadStart = off + HEADER_SIZE;
    this.payloadEnd = off + HEADER_SIZE + length;
    this.pos = off + size;
    return true;
  }

  private halt(kind: StopKind, reason: string): false {
    this.stopped = { kind, offset: this.base + this.pos, reason };
    return false;
  }
}

/**
 * The record a SequenceJump record says it follows, or null when its payload cannot be read or
 * it does not skip ahead (a jump of nothing, or backwards, is not one the writer makes).
 */
export function jumpPrevious(r: Pick<RawRecord, 'seq' | 'payload'>): number | null {
  try {
    const { previous } = decodeSequenceJump(r.payload);
    return previous < r.seq - 1 ? previous : null;
  } catch {
    return null;
  }
}

/** A reader over bytes that are all there: a whole segment, or its end from a record boundary. */
export function bufferReader(buf: Buffer, options?: ReadOptions): RecordReader {
  const reader = new RecordReader(options);
  reader.push(buf);
  reader.end();
  return reader;
}

const CHUNK = 4 * 1024 * 1024;

/**
 * Feeds `reader` from an open segment file, from the reader's position on, `chunkSize` bytes at
 * a time (a larger record is gathered from several reads), and hands each record to `each` until
 * it returns false (then `reader.stop` is null) or the reader stops.
 */
export async function readSegmentFile(
  file: FileHandle,
  reader: RecordReader,
  each: (r: RawRecord) => boolean,
  chunkSize = CHUNK,
): Promise<void> {
  for (;;) {
    for (let r = reader.next(); r !== null; r = reader.next()) if (!each(r)) return;
    if (reader.stop) return;
    // A fresh buffer each time: records and split-record pieces may still point into the last one.
    const buf = Buffer.allocUnsafe(chunkSize);
    const { bytesRead } = await file.read(buf, 0, chunkSize, reader.position);
    if (bytesRead === 0) reader.end();
    else reader.push(buf.subarray(0, bytesRead));
  }
}

/**
 * The header of a segment's first record within its first `size` bytes, or null when they cannot
 * hold one. Its fields are as written, not verified: reading the records verifies them.
 */
export async function firstRecordHeader(file: FileHandle, size = Infinity): Promise<RecordHeader | null> {
  if (size < HEADER_SIZE) return null;
  const head = Buffer.alloc(HEADER_SIZE);
  const { bytesRead } = await file.read(head, 0, HEADER_SIZE, 0);
  return bytesRead === HEADER_SIZE ? readHeader(head, 0) : null;
}

/**
 * Every valid record that starts on an 8-byte boundary at or after `from`, whatever lies between
 * them: to tell damage inside a log from a torn tail, and to find what survives in damaged files.
 */
export function* scanForRecords(buf: Buffer, from = 0): Generator<RawRecord> {
  for (let off = (from + 7) & ~7; off + HEADER_SIZE <= buf.length; off += 8) {
    const length = payloadLength(buf, off);
    if (headerFault(buf, off, length) !== null) continue;
    if (buf.length - off < HEADER_SIZE + length || recordFault(buf, off, length) !== null) continue;
    yield recordAt(buf, off, length, off);
  }
}
