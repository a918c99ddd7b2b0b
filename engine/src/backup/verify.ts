// Checks WAL bytes record by record while they stream past (backup and restore never trust a
// byte they have not checksummed), without holding more than one record in memory.
import { createHash, type Hash } from 'node:crypto';
import { decodeRecordAt, HEADER_SIZE, MAX_PAYLOAD, MAGIC, RecordType, alignedSize } from '../wal/format.ts';

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

/**
 * Streams bytes of one segment that start at a record boundary. `expectSeq` is the sequence the
 * first record must carry (null: any). finish() fails unless the bytes end on a record boundary.
 */
export class RecordVerifier {
  readonly stats: SegmentStats = emptyStats();
  readonly hash: Hash = createHash('sha256');
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private need = HEADER_SIZE;
  private offset: number;
  private expectSeq: number | null;
  private readonly what: string;

  constructor(what: string, startOffset = 0, expectSeq: number | null = null) {
    this.what = what;
    this.offset = startOffset;
    this.expectSeq = expectSeq;
  }

  push(chunk: Buffer): void {
    this.hash.update(chunk);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < this.need) return;
    let buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    let off = 0;
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
      this.need = HEADER_SIZE;
    }
    this.offset += off;
    buf = buf.subarray(off);
    this.pending = buf.length > 0 ? [buf] : [];
    this.pendingBytes = buf.length;
  }

  /** Ends the stream; returns the sha256 (hex) of every byte pushed. */
  finish(): string {
    if (this.pendingBytes > 0) this.fail(0, `ends ${this.pendingBytes} bytes into a record (truncated)`);
    return this.hash.digest('hex');
  }

  private fail(rel: number, reason: string): never {
    throw new BackupVerifyError(`${this.what}: offset ${this.offset + rel}: ${reason}`);
  }
}
