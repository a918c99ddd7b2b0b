// Reads committed records out of a live WAL directory by sequence number, while the writer keeps
// appending, rotating (renaming orders_current.wal) and deleting old segments. A cursor remembers
// where the next record is; when the file under it changed, it is found again from the segments'
// first records.
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CURRENT_SEGMENT,
  HEADER_SIZE,
  SEALED_SEGMENT,
  RecordType,
  decodeRecordAt,
  readU64,
} from '@veloz/wal/format';

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
}

const CHUNK = 4 * 1024 * 1024;

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
    if (from > to) return [];
    for (let attempt = 0; attempt < 2; attempt++) {
      if (this.cursor?.seq !== from) this.cursor = await this.locate(from);
      if (!this.cursor) return [];
      const out = await this.readAtCursor(to, max);
      if (out !== null) return out;
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
      let want = CHUNK;
      for (;;) {
        const buf = Buffer.allocUnsafe(want);
        const { bytesRead } = await fh.read(buf, 0, want, c.offset);
        const data = buf.subarray(0, bytesRead);
        let off = 0;
        while (out.length < max && c.seq <= to) {
          const d = decodeRecordAt(data, off);
          if (!d.ok) {
            // A record larger than the chunk: read it whole.
            if (off === 0 && d.kind === 'incomplete' && data.length >= HEADER_SIZE) {
              const need = HEADER_SIZE + data.readUInt32LE(0) + 8;
              if (need > want) {
                want = need;
                break;
              }
            }
            return out.length > 0 ? out : c.seq <= to ? null : out;
          }
          const r = d.record;
          if (r.seq !== c.seq) return out.length > 0 ? out : null;
          out.push({
            seq: r.seq,
            timestamp: r.timestamp,
            type: r.type,
            crc: data.readUInt32LE(off + 4),
            payload: Buffer.from(r.payload),
          });
          off += r.size;
          c.offset += r.size;
          c.seq += 1;
          if (r.type === RecordType.Rotation) {
            // The next record is in the next segment: located on the next read.
            this.cursor = null;
            return out;
          }
        }
        if (off === 0 && want > CHUNK && out.length === 0) continue;
        return out;
      }
    } finally {
      await fh.close();
    }
  }

  private async locate(seq: number): Promise<Cursor | null> {
    const names = await readdir(this.dir);
    const sealed = names
      .map((n) => SEALED_SEGMENT.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => Number(a[1]) - Number(b[1]))
      .map((m) => m[0]);
    const files = [...sealed, ...(names.includes(CURRENT_SEGMENT) ? [CURRENT_SEGMENT] : [])];
    const firsts: Array<{ name: string; first: number }> = [];
    const head = Buffer.alloc(HEADER_SIZE);
    for (const name of files) {
      try {
        const fh = await open(join(this.dir, name), 'r');
        try {
          const { bytesRead } = await fh.read(head, 0, HEADER_SIZE, 0);
          if (bytesRead === HEADER_SIZE) firsts.push({ name, first: readU64(head, 8) });
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
      const buf = await fh.readFile();
      let off = 0;
      let next = holding.first;
      while (off < buf.length) {
        const d = decodeRecordAt(buf, off);
        if (!d.ok || d.record.seq !== next) break;
        if (d.record.seq === seq) return { name: holding.name, offset: off, seq };
        off += d.record.size;
        next += 1;
      }
      // Not written yet: it will follow the last record of the current segment.
      return holding.name === CURRENT_SEGMENT && next === seq
        ? { name: holding.name, offset: off, seq }
        : null;
    } finally {
      await fh.close();
    }
  }
}
