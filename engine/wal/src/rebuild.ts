// Writes records kept elsewhere (the PostgreSQL copy of a WAL) back into a WAL directory, laid out
// as the writer laid them out: byte for byte the same records, each segment ending with its
// Rotation record and sealed under the number that record names.
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { RecordType, encodeRecord, encodedCrc } from './framing.ts';
import { decodeRotation } from './payloads.ts';
import { CURRENT_SEGMENT, sealCurrentSegment } from './segments.ts';

export interface RebuiltRecord {
  seq: number;
  timestamp: number;
  type: RecordType;
  /** The CRC32C the record was written with. */
  crc: number;
  payload: Buffer;
}

export class SegmentRebuilder {
  /** Bytes of the records added so far. */
  bytes = 0;
  private readonly dir: string;
  private file: FileHandle;
  /** Encoded records not written yet; a number seals the segment written so far under it. */
  private pending: Array<Buffer | number> = [];

  private constructor(dir: string, file: FileHandle) {
    this.dir = dir;
    this.file = file;
  }

  /** Starts orders_current.wal in `dir` (an empty directory). */
  static async create(dir: string): Promise<SegmentRebuilder> {
    return new SegmentRebuilder(dir, await open(join(dir, CURRENT_SEGMENT), 'w'));
  }

  /**
   * Queues a record; false, and nothing queued, when its bytes do not carry `crc` (they are not
   * what was written).
   */
  add(r: RebuiltRecord): boolean {
    const rec = encodeRecord(r.seq, r.timestamp, r.type, r.payload);
    if (encodedCrc(rec) !== r.crc) return false;
    this.pending.push(rec);
    if (r.type === RecordType.Rotation) this.pending.push(decodeRotation(r.payload).sealedSegment);
    this.bytes += rec.length;
    return true;
  }

  /** Writes what is queued, one write per run of records, sealing segments where they end. */
  async flush(): Promise<void> {
    const items = this.pending;
    this.pending = [];
    let run: Buffer[] = [];
    for (const item of items) {
      if (typeof item !== 'number') {
        run.push(item);
        continue;
      }
      await this.write(run);
      run = [];
      await this.file.sync();
      await this.file.close();
      await sealCurrentSegment(this.dir, item);
      this.file = await open(join(this.dir, CURRENT_SEGMENT), 'w');
    }
    await this.write(run);
  }

  /** Flushes and syncs; close() still has to release the file. */
  async finish(): Promise<void> {
    await this.flush();
    await this.file.sync();
  }

  /** Releases the file (also after a failure); the directory is made durable by whoever moves it. */
  async close(): Promise<void> {
    await this.file.close();
  }

  private async write(run: Buffer[]): Promise<void> {
    if (run.length > 0) await this.file.write(run.length === 1 ? run[0]! : Buffer.concat(run));
  }
}
