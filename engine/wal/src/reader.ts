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
  dataSize,
  faultReason,
  headerFault,
  readHeader,
  recordAt,
  recordFault,
  recordSize,
  type FrameFault,
  type RawRecord,
  type RecordHeader,
} from './framing.ts';

export type { RawRecord, RecordHeader } from './framing.ts';

export type StopKind =
  /** The bytes end on a record boundary (or, see `requirePadding`, in the last one's padding). */
  | 'end'
  /** The bytes end inside a record: its header or data cut short (an interrupted write). */
  | 'torn'
  /** Bytes that are not a record: bad magic, implausible length, checksum, type or version. */
  | FrameFault
  /** A valid record that does not carry the expected sequence number. */
  | 'sequence'
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
}

const EMPTY = Buffer.alloc(0);

/**
 * Push bytes, call next() until it returns null, repeat; end() once no more bytes will come.
 * `stop` is null while more bytes may complete the next record.
 */
export class RecordReader {
  stop: ReadStop | null = null;
  /** The bytes being decoded, and where the next record starts in them. */
  private cur: Buffer = EMPTY;
  private pos = 0;
  /** Offset in the segment of cur[0]. */
  private base: number;
  /** Chunks pushed while cur still held the start of a record. */
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private expectSeq: number | null;
  private first = true;
  private rotated = false;
  private readonly until: ((seq: number, timestamp: number) => boolean) | null;
  private readonly requirePadding: boolean;

  constructor(options: ReadOptions = {}) {
    this.base = options.offset ?? 0;
    this.expectSeq = options.expectSeq ?? null;
    this.until = options.until ?? null;
    this.requirePadding = options.requirePadding ?? false;
  }

  push(chunk: Buffer): void {
    if (this.ended) throw new Error('RecordReader: push() after end()');
    if (chunk.length === 0) return;
    if (this.pos >= this.cur.length && this.queued === 0) {
      this.base += this.pos;
      this.cur = chunk;
      this.pos = 0;
    } else {
      this.queue.push(chunk);
      this.queued += chunk.length;
    }
  }

  /** No more bytes will come: what is left is read, then classified (clean end or torn). */
  end(): void {
    this.ended = true;
  }

  /** The next record, or null: then `stop` says why, or is null while more bytes are needed. */
  next(): RawRecord | null {
    if (this.stop) return null;
    for (;;) {
      const avail = this.cur.length - this.pos;
      const last = this.ended && this.queued === 0;
      let need = HEADER_SIZE;
      if (avail >= HEADER_SIZE) {
        const fault = headerFault(this.cur, this.pos);
        if (fault) return this.halt(fault, faultReason(fault, this.cur, this.pos));
        need = recordSize(this.cur, this.pos);
        if (avail >= need) return this.take(need);
        if (last && !this.requirePadding && avail >= dataSize(this.cur, this.pos)) return this.take(need);
      }
      if (this.gather(need)) continue;
      if (!last) return null;
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
      } else {
        parts.push(c.subarray(0, take));
        this.queue[0] = c.subarray(take);
      }
      this.queued -= take;
      got += take;
    }
    this.base += this.pos;
    this.cur = Buffer.concat(parts, got);
    this.pos = 0;
    return true;
  }

  /** Decodes the record at the current position (`size` bytes, or its data at the very end). */
  private take(size: number): RawRecord | null {
    const buf = this.cur;
    const off = this.pos;
    const fault = recordFault(buf, off);
    if (fault) return this.halt(fault, faultReason(fault, buf, off));
    const r = recordAt(buf, off, this.base + off);
    if (this.until?.(r.seq, r.timestamp))
      return this.halt('until', `record ${r.seq} is past the end asked for`);
    // Nothing may follow the record that ends a segment, whatever its sequence.
    if (this.rotated) return this.halt('after-rotation', 'record after a rotation record');
    if (this.expectSeq !== null && r.seq !== this.expectSeq) {
      return this.halt(
        'sequence',
        this.first
          ? `sequence ${r.seq} where ${this.expectSeq} was expected`
          : `sequence ${r.seq} follows ${this.expectSeq - 1}`,
      );
    }
    this.first = false;
    this.expectSeq = r.seq + 1;
    this.rotated = r.type === RecordType.Rotation;
    this.pos = off + size;
    return r;
  }

  private halt(kind: StopKind, reason: string): null {
    this.stop = { kind, offset: this.base + this.pos, reason };
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

export interface FileReadOptions extends ReadOptions {
  /** Bytes read at a time (default 4 MiB); a larger record is gathered from several reads. */
  chunkSize?: number;
}

const CHUNK = 4 * 1024 * 1024;

/**
 * Reads the records of an open segment from `options.offset` on, a chunk at a time, and hands
 * each to `each` until it returns false (then the reader's `stop` is null) or the reader stops.
 */
export async function readSegmentFile(
  file: FileHandle,
  options: FileReadOptions,
  each: (r: RawRecord) => boolean,
): Promise<RecordReader> {
  const reader = new RecordReader(options);
  const chunkSize = options.chunkSize ?? CHUNK;
  let position = options.offset ?? 0;
  for (;;) {
    for (let r = reader.next(); r !== null; r = reader.next()) if (!each(r)) return reader;
    if (reader.stop) return reader;
    // A fresh buffer each time: records and split-record pieces may still point into the last one.
    const buf = Buffer.allocUnsafe(chunkSize);
    const { bytesRead } = await file.read(buf, 0, chunkSize, position);
    if (bytesRead === 0) reader.end();
    else reader.push(buf.subarray(0, bytesRead));
    position += bytesRead;
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
    if (headerFault(buf, off) !== null || buf.length - off < dataSize(buf, off)) continue;
    if (recordFault(buf, off) === null) yield recordAt(buf, off, off);
  }
}
