// Checks WAL bytes record by record while they stream past (backup and restore never trust a
// byte they have not checksummed), without holding more than one record in memory.
import { crc32c } from '@node-rs/crc32';
import { RecordType, isCheckpoint } from '@veloz/wal/format';
import { RecordReader, jumpPrevious } from '@veloz/wal/reader';

export class BackupVerifyError extends Error {}

export interface SegmentStats {
  entries: number;
  firstSequence: number | null;
  lastSequence: number | null;
  firstTimestamp: number | null;
  lastTimestamp: number | null;
  /** The record a declared sequence jump at the start of the bytes follows (absent otherwise). */
  follows?: number;
  /** The segment ends with a Rotation record (it is sealed). */
  rotated: boolean;
  /** The last checkpoint record (inline or a reference to a checkpoint file) seen, if any. */
  checkpointSequence: number | null;
}

export function emptyStats(): SegmentStats {
  return {
    entries: 0,
    firstSequence: null,
    lastSequence: null,
    firstTimestamp: null,
    lastTimestamp: null,
    rotated: false,
    checkpointSequence: null,
  };
}

/** CRC32C of a byte stream, as the hex string stored in manifests. */
export function crcHex(crc: number): string {
  return (crc >>> 0).toString(16).padStart(8, '0');
}

/**
 * Streams bytes of one segment that start at a record boundary. `expectSeq` is the sequence the
 * first record must carry (null: any). finish() fails unless the bytes end on a record boundary.
 * With `stopAt`, the first record it accepts ends the checks: `cut` is that record's offset.
 */
export class RecordVerifier {
  readonly stats: SegmentStats = emptyStats();
  /** CRC32C of every byte pushed (cheaper than a cryptographic hash, and damage is not an attack). */
  private crc = 0;
  cut: number | null = null;
  /** Offset in the segment just past the last record checked. */
  private consumed: number;
  private readonly checksum: boolean;
  private readonly reader: RecordReader;
  private readonly what: string;

  constructor(
    what: string,
    startOffset = 0,
    expectSeq: number | null = null,
    stopAt: ((seq: number, timestamp: number) => boolean) | null = null,
    checksum = true,
  ) {
    this.checksum = checksum;
    this.what = what;
    this.consumed = startOffset;
    // A stored segment must hold every byte the writer wrote, the last record's padding included.
    this.reader = new RecordReader({ offset: startOffset, expectSeq, until: stopAt, requirePadding: true });
  }

  /** Checks `chunk`; its buffer may be reused once this returns (the reader copies what it keeps). */
  push(chunk: Buffer): void {
    if (this.checksum) this.crc = crc32c(chunk, this.crc);
    if (this.cut !== null) return;
    this.reader.push(chunk);
    this.check();
    this.reader.own();
  }

  /**
   * Counts every record the reader completes; fails at the first that is not the next one. The
   * reader is the record it stands on (advance()): no object per record, a million per gigabyte.
   */
  private check(): void {
    const s = this.stats;
    const r = this.reader;
    while (r.advance()) {
      s.entries += 1;
      if (s.firstSequence === null && r.type === RecordType.SequenceJump) {
        // The reader accepted the jump, so it is readable.
        s.follows = jumpPrevious(r)!;
      }
      if (s.firstSequence === null) {
        s.firstSequence = r.seq;
        s.firstTimestamp = r.timestamp;
      }
      s.lastSequence = r.seq;
      s.lastTimestamp = r.timestamp;
      s.rotated = r.type === RecordType.Rotation;
      if (isCheckpoint(r.type)) s.checkpointSequence = r.seq;
      this.consumed = r.offset + r.size;
    }
    const stop = this.reader.stop;
    if (stop === null || stop.kind === 'end') return;
    if (stop.kind === 'until') {
      this.cut = stop.offset;
      return;
    }
    throw new BackupVerifyError(`${this.what}: offset ${stop.offset}: ${stop.reason}`);
  }

  /**
   * Bytes pushed that belong to a record not complete yet (the reader keeps a copy of them, see
   * push()). 0 once the checks ended at a cut.
   */
  get pending(): number {
    return this.cut === null ? this.reader.position - this.consumed : 0;
  }

  /** Ends the stream; returns the CRC32C (hex) of every byte pushed. */
  finish(): string {
    if (this.cut === null) {
      this.reader.end();
      this.check();
    }
    return crcHex(this.crc);
  }
}
