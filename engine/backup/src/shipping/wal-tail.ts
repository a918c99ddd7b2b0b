// Reads committed records out of a live WAL directory by sequence number, while the writer keeps
// appending, rotating (renaming orders_current.wal) and deleting old segments. A cursor remembers
// where the next record is; when the file under it changed, it is found again from the segments'
// first records.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { RecordType } from '@veloz/wal/format';
import { RecordReader, firstRecordHeader, readSegmentFile } from '@veloz/wal/reader';
import { CURRENT_SEGMENT, listSegments } from '@veloz/wal/segments';
import { inlineCheckpointRecord } from '@veloz/wal/snapshot-file';

export interface TailRecord {
  seq: number;
  timestamp: number;
  type: number;
  crc: number;
  payload: Buffer;
}

/** Records up to `missingTo` are gone (deleted by WAL retention before they were read). */
export class WalGapError extends Error {
  readonly missingFrom: number;
  readonly missingTo: number;

  constructor(from: number, to: number) {
    super(`WAL records ${from}-${to} are no longer in the WAL directory (deleted by retention)`);
    this.missingFrom = from;
    this.missingTo = to;
  }
}

interface Cursor {
  name: string;
  offset: number;
  seq: number;
  /** The cursor points at a declared jump (found for its own sequence or one in its gap). */
  atJump?: boolean;
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

export class WalTail {
  private readonly dir: string;
  private cursor: Cursor | null = null;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Up to `max` records from `from` on, none past `to` (the durable sequence). */
  async read(from: number, to: number, max: number): Promise<TailRecord[]> {
    if (from > to || max < 1) return [];
    for (let attempt = 0; attempt < 2; attempt++) {
      if (this.cursor?.seq !== from) this.cursor = await this.locate(from);
      // `from` lies in a declared sequence jump: the log goes on at the jump record.
      if (!this.cursor || this.cursor.seq > to) return [];
      const out = await this.readAtCursor(to, max);
      if (out !== null) {
        // A checkpoint kept in its own file ships as the inline checkpoint it stands for.
        for (const r of out)
          if (r.type === RecordType.CheckpointRef)
            Object.assign(r, await inlineCheckpointRecord(this.dir, r));
        return out;
      }
      // The file changed under the cursor (a rotation): find the record again, once.
      this.cursor = null;
    }
    return [];
  }

  /** null: the cursor no longer points at the expected record. */
  private async readAtCursor(to: number, max: number): Promise<TailRecord[] | null> {
    const c = this.cursor!;
    let fh;
    try {
      fh = await open(join(this.dir, c.name), 'r');
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    const out: TailRecord[] = [];
    try {
      // A jump names the record before it, which this read does not see: take it as it is (the
      // scan that found it checked it follows its predecessor).
      const reader = new RecordReader({ offset: c.offset, expectSeq: c.atJump ? null : c.seq });
      c.atJump = false;
      await readSegmentFile(fh, reader, (r) => {
        // A copy: the shipper holds records longer than the chunk they were read in is worth keeping.
        const payload = Buffer.from(r.payload);
        out.push({ seq: r.seq, timestamp: r.timestamp, type: r.type, crc: reader.crc, payload });
        c.offset += r.size;
        c.seq = r.seq + 1;
        if (r.type === RecordType.Rotation) {
          // The next record is in the next segment: located on the next read.
          this.cursor = null;
          return false;
        }
        return out.length < max && c.seq <= to;
      });
      // Stopped short of `to` (the end of the file, or not the expected record): a rotation
      // renamed the file, unless some records were read; the next read goes on from there.
      return reader.stop !== null && out.length === 0 ? null : out;
    } finally {
      await fh.close();
    }
  }

  private async locate(seq: number): Promise<Cursor | null> {
    const firsts: Array<{ name: string; first: number; type: number }> = [];
    for (const { name } of (await listSegments(this.dir)).segments) {
      try {
        const fh = await open(join(this.dir, name), 'r');
        try {
          const head = await firstRecordHeader(fh);
          if (head) firsts.push({ name, first: head.seq, type: head.type });
        } finally {
          await fh.close();
        }
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
    }
    const holding = firsts.filter((f) => f.first <= seq).at(-1);
    if (!holding) {
      const oldest = firsts[0];
      if (oldest && oldest.first > seq) throw new WalGapError(seq, oldest.first - 1);
      return null;
    }
    let fh;
    try {
      fh = await open(join(this.dir, holding.name), 'r');
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    try {
      let found = null as Cursor | null;
      let next = holding.first;
      // A segment that starts with a jump: the record it names is in the segment before.
      const reader = new RecordReader({
        expectSeq: holding.type === RecordType.SequenceJump ? null : holding.first,
      });
      await readSegmentFile(fh, reader, (r) => {
        // A declared jump over `seq` (those records were lost and will never be written): the
        // log goes on with the jump record itself.
        if (r.seq === seq || (r.seq > seq && r.type === RecordType.SequenceJump)) {
          found = {
            name: holding.name,
            offset: r.offset,
            seq: r.seq,
            atJump: r.type === RecordType.SequenceJump,
          };
          return false;
        }
        next = r.seq + 1;
        return true;
      });
      if (found) return found;
      const after = firsts[firsts.indexOf(holding) + 1];
      if (after?.type === RecordType.SequenceJump && reader.stop?.kind === 'end') {
        // The next segment starts with a declared jump over `seq`.
        return { name: after.name, offset: 0, seq: after.first, atJump: true };
      }
      // Not written yet: it will follow the last record of the current segment.
      return holding.name === CURRENT_SEGMENT && next === seq && reader.stop
        ? { name: holding.name, offset: reader.stop.offset, seq }
        : null;
    } finally {
      await fh.close();
    }
  }
}
