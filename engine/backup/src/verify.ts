// Checks WAL bytes record by record while they stream past (backup and restore never trust a
// byte they have not checksummed), without holding more than one record in memory.
import { crc32c } from '@node-rs/crc32';
import { decodeRecordAt, HEADER_SIZE, MAX_PAYLOAD, MAGIC, RecordType, alignedSize } from '@veloz/wal/format';

export class BackupVerifyError extends Error {}

export interface SegmentStats {
  entries: number;
  firstSequence: number | null;
  lastSequence: number | null;
  firstTimestamp: number | null;
  lastTimestamp: number | null;
  /** The segment ends with a Rotation record (it is sealed). */
  rotated: boolean;
}

export function emptyStats(): SegmentStats {
  return {
    entries: 0,
    firstSequence: null,
    lastSequence: null,
    firstTimestamp: null,
    lastTimestamp: null,
    rotated: false,
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
  private readonly checksum: boolean;
  private readonly stopAt: ((seq: number, timestamp: number) => boolean) | null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private need = HEADER_SIZE;
  private offset: number;
  private expectSeq: number | null;
  private readonly what: string;

  constructor(
    what: string,
    startOffset = 0,
    expectSeq: number | null = null,
    stopAt: ((seq: number, timestamp: number) => boolean) | null = null,
    checksum = true,
  ) {
    this.checksum = checksum;
    this.stopAt = stopAt;
    this.what = what;
    this.offset = startOffset;
    this.expectSeq = expectSeq;
  }

  push(chunk: Buffer): void {
    if (this.checksum) this.crc = crc32c(chunk, this.crc);
    if (this.cut !== null) return;
    let rest = chunk;
    // A record split across chunks is completed from the front of this one: only that record is
    // copied, never the whole chunk.
    while (this.pendingBytes > 0 && rest.length > 0) {
      const take = Math.min(this.need - this.pendingBytes, rest.length);
      this.pending.push(rest.subarray(0, take));
      this.pendingBytes += take;
      rest = rest.subarray(take);
      if (this.pendingBytes < this.need) return;
      const rec = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      const used = this.scan(rec);
      if (this.cut !== null) return;
      if (used < rec.length) {
        // Only the header was complete: now the record's full size is known.
        this.pending = [rec];
        this.pendingBytes = rec.length;
      }
    }
    if (rest.length === 0) return;
    const used = this.scan(rest);
    if (this.cut !== null || used === rest.length) return;
    this.pending = [rest.subarray(used)];
    this.pendingBytes = rest.length - used;
  }

  /** Checks every complete record at the start of `buf`; returns the bytes they take. */
  private scan(buf: Buffer): number {
    let off = 0;
    this.need = HEADER_SIZE;
    while (buf.length - off >= HEADER_SIZE) {
      if (buf.readUInt32LE(off + 28) !== MAGIC) this.fail(off, 'bad record magic');
      const len = buf.readUInt32LE(off);
      if (len > MAX_PAYLOAD) this.fail(off, `implausible record length ${len}`);
      const size = alignedSize(len);
      if (buf.length - off < size) {
        this.need = size;
        break;
      }
      const d = decodeRecordAt(buf, off);
      if (!d.ok) this.fail(off, d.reason);
      const r = d.record;
      if (this.stopAt?.(r.seq, r.timestamp)) {
        this.cut = this.offset + off;
        return off;
      }
      if (this.stats.rotated) this.fail(off, 'record after a rotation record');
      if (this.expectSeq !== null && r.seq !== this.expectSeq) {
        this.fail(off, `sequence ${r.seq} where ${this.expectSeq} was expected`);
      }
      const s = this.stats;
      s.entries += 1;
      s.firstSequence ??= r.seq;
      s.firstTimestamp ??= r.timestamp;
      s.lastSequence = r.seq;
      s.lastTimestamp = r.timestamp;
      s.rotated = r.type === RecordType.Rotation;
      this.expectSeq = r.seq + 1;
      off += size;
    }
    this.offset += off;
    return off;
  }

  /** Ends the stream; returns the CRC32C (hex) of every byte pushed. */
  finish(): string {
    if (this.cut === null && this.pendingBytes > 0) {
      this.fail(0, `ends ${this.pendingBytes} bytes into a record (truncated)`);
    }
    return crcHex(this.crc);
  }

  private fail(rel: number, reason: string): never {
    throw new BackupVerifyError(`${this.what}: offset ${this.offset + rel}: ${reason}`);
  }
}
