// Helpers shared by the WAL tests: temporary directories, a file wrapper that counts syncs and
// injects faults, and a model of the engine's use of the WAL (check -> append -> apply).
import { mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineState } from '../engine/state.ts';
import { decodeRecordAt, HEADER_SIZE, MAGIC, type RawRecord } from './format.ts';
import { decodeOrderRecord, encodeOrderRecord, type OrderRecord } from './payloads.ts';
import { recoverWal, type Recovered, type RecoveryMode } from './recovery.ts';
import { WalWriter, type WalFile, type WalWriterOptions } from './writer.ts';

export class TempDirs {
  private readonly dirs: string[] = [];

  async make(prefix = 'veloz-wal-'): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), prefix));
    this.dirs.push(d);
    return d;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  }
}

export interface FileStats {
  writes: number;
  datasyncs: number;
  opened: number;
}

/**
 * An openFile for WalWriter that counts writes and syncs, can fail writes on demand, and keeps
 * every handle so a test can "crash" a writer (stop using it) and still close its files.
 */
export class FileTap {
  readonly stats: FileStats = { writes: 0, datasyncs: 0, opened: 0 };
  private readonly handles: WalFile[] = [];
  /** Called before each write; may throw to inject a fault, or return a shorter length to write. */
  beforeWrite: ((length: number) => number | void) | null = null;

  readonly openFile = async (path: string, flags: string): Promise<WalFile> => {
    const fh = await open(path, flags);
    this.stats.opened += 1;
    this.handles.push(fh);
    const file: WalFile = {
      write: async (buffer, offset, length, position) => {
        this.stats.writes += 1;
        const n = this.beforeWrite?.(length);
        return fh.write(buffer, offset, typeof n === 'number' ? n : length, position);
      },
      datasync: async () => {
        this.stats.datasyncs += 1;
        await fh.datasync();
      },
      close: () => fh.close(),
    };
    return file;
  };

  /** Closes whatever a crashed writer left open (closing twice is harmless for a FileHandle). */
  async closeAll(): Promise<void> {
    await Promise.allSettled(this.handles.splice(0).map((h) => h.close()));
  }
}

export function enospc(): Error {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });
}

/** The engine's state plus a writer, used exactly the way the engine uses them. */
export class Harness {
  readonly state: EngineState;
  readonly wal: WalWriter;
  clock: number;

  private constructor(state: EngineState, wal: WalWriter, clock: number) {
    this.state = state;
    this.wal = wal;
    this.clock = clock;
  }

  static async open(
    opts: Omit<WalWriterOptions, 'now'>,
    historyLimit = 1000,
    mode: RecoveryMode = 'strict',
  ): Promise<{ h: Harness; recovered: Recovered }> {
    const { state, recovered } = await recoverState(opts.dir, mode, historyLimit);
    const box = { t: Math.max(1_000_000, recovered.lastTimestamp) };
    const wal = await WalWriter.open({ ...opts, now: () => box.t }, recovered);
    const h = new Harness(state, wal, box.t);
    // The writer reads the harness clock so records and state carry the same timestamps.
    Object.defineProperty(box, 't', { get: () => h.clock });
    wal.setSnapshotProvider(() => state.snapshot());
    return { h, recovered };
  }

  /** check -> append -> apply; returns the record's sequence number. */
  commit(rec: OrderRecord): number {
    this.clock += 1;
    this.state.check(rec);
    const seq = this.wal.append(rec.type, encodeOrderRecord(rec));
    this.state.apply(rec, seq, this.clock);
    return seq;
  }
}

export async function recoverState(
  dir: string,
  mode: RecoveryMode = 'strict',
  historyLimit = 1000,
): Promise<{ state: EngineState; recovered: Recovered }> {
  const state = new EngineState(historyLimit);
  const recovered = await recoverWal(dir, mode, {
    onCheckpoint: (_seq, p) => state.restore(p),
    onRecord: (r) => {
      const rec = decodeOrderRecord(r.type, r.payload);
      state.check(rec);
      state.apply(rec, r.seq, r.timestamp);
    },
  });
  return { state, recovered };
}

/** The snapshot as a value, with the parts whose order carries no meaning sorted. */
export function normalizedSnapshot(state: EngineState): unknown {
  const s = JSON.parse(state.snapshot().toString('utf8')) as Record<string, unknown[]>;
  const byJson = (a: unknown, b: unknown): number => JSON.stringify(a).localeCompare(JSON.stringify(b));
  for (const k of ['orders', 'positions', 'strategyOrders', 'marks']) s[k] = [...(s[k] ?? [])].sort(byJson);
  return s;
}

/** Every valid record in a file, found by scanning each 8-byte boundary (for damaged files too). */
export function recordsIn(buf: Buffer): RawRecord[] {
  const out: RawRecord[] = [];
  for (let off = 0; off + HEADER_SIZE <= buf.length; off += 8) {
    if (buf.readUInt32LE(off + 28) !== MAGIC) continue;
    const d = decodeRecordAt(buf, off);
    if (d.ok) out.push(d.record);
  }
  return out;
}

/** Sequence numbers of every valid record anywhere under `dir`, quarantine/ included. */
export async function sequencesOnDisk(dir: string): Promise<Set<number>> {
  const seqs = new Set<number>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else for (const r of recordsIn(await readFile(join(d, e.name)))) seqs.add(r.seq);
    }
  };
  await walk(dir);
  return seqs;
}

export async function listFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}
