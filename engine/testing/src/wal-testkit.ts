// Helpers shared by the WAL tests: temporary directories, a file wrapper that counts syncs and
// injects faults, and a model of the engine's use of the WAL (check -> append -> apply).
import { mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Order } from '@veloz/engine/domain/order';
import { ORDER_STATUSES, canTransition } from '@veloz/engine/domain/order-state';
import { stateReplayHandler } from '@veloz/engine/engine/replay-handler';
import { EngineState } from '@veloz/engine/engine/state';
import { RecordType, type RawRecord } from '@veloz/wal/format';
import { encodeOrderRecord, type OrderRecord } from '@veloz/wal/payloads';
import { scanForRecords } from '@veloz/wal/reader';
import { recoverWal, type Recovered, type RecoveryMode } from '@veloz/wal/recovery';
import { CURRENT_SEGMENT, MARK_FILE, SEALED_SEGMENT } from '@veloz/wal/segments';
import { WalWriter, type WalFile, type WalWriterOptions } from '@veloz/wal/writer';

export class TempDirs {
  private readonly dirs: string[] = [];

  async make(prefix = 'veloz-wal-'): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), prefix));
    this.dirs.push(d);
    return d;
  }

  async cleanup(): Promise<void> {
    // Retries: a writer a test abandoned (a simulated crash) may still write its high-water mark
    // into a directory while it is being removed.
    await Promise.all(
      this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 })),
    );
  }
}

export interface FileStats {
  writes: number;
  datasyncs: number;
  opened: number;
}

/**
 * An openFile for WalWriter that counts writes and syncs, can inject faults, and keeps every
 * handle so a test can "crash" a writer (stop using it) and still close its files.
 */
export class FileTap {
  readonly stats: FileStats = { writes: 0, datasyncs: 0, opened: 0 };
  private readonly handles: WalFile[] = [];
  /** Called before each write; may throw to inject a fault, or return a shorter length to write. */
  beforeWrite: ((length: number) => number | void) | null = null;
  /** Called before each datasync; may throw, or delay it. */
  beforeDatasync: (() => Promise<void> | void) | null = null;
  /** Called before opening a file; may throw. */
  beforeOpen: ((path: string, flags: string) => void) | null = null;
  /** Per opened path: the end of the bytes written so far, and of those covered by a datasync. */
  readonly written = new Map<string, number>();
  readonly synced = new Map<string, number>();

  readonly openFile = async (path: string, flags: string): Promise<WalFile> => {
    this.beforeOpen?.(path, flags);
    const fh = await open(path, flags);
    this.stats.opened += 1;
    this.handles.push(fh);
    const file: WalFile = {
      write: async (buffer, offset, length, position) => {
        this.stats.writes += 1;
        const n = this.beforeWrite?.(length);
        const res = await fh.write(buffer, offset, typeof n === 'number' ? n : length, position);
        this.written.set(path, Math.max(this.written.get(path) ?? 0, position + res.bytesWritten));
        return res;
      },
      datasync: async () => {
        this.stats.datasyncs += 1;
        const upTo = this.written.get(path) ?? 0;
        await this.beforeDatasync?.();
        await fh.datasync();
        this.synced.set(path, Math.max(this.synced.get(path) ?? 0, upTo));
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
  /** Drives both the WAL timestamps and apply(), so live and replayed orders carry the same times. */
  readonly clock: { t: number };

  private constructor(state: EngineState, wal: WalWriter, clock: { t: number }) {
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
    const clock = { t: Math.max(1_000_000, recovered.lastTimestamp) };
    const wal = await WalWriter.open({ ...opts, now: () => clock.t }, recovered);
    wal.setSnapshotProvider(() => state.snapshot());
    return { h: new Harness(state, wal, clock), recovered };
  }

  /** check -> append -> apply; returns the record's sequence number. */
  commit(rec: OrderRecord): number {
    this.clock.t += 1;
    this.state.check(rec);
    const seq = this.wal.append(rec.type, encodeOrderRecord(rec));
    this.state.apply(rec, seq, this.clock.t);
    return seq;
  }
}

export async function recoverState(
  dir: string,
  mode: RecoveryMode = 'strict',
  historyLimit = 1000,
): Promise<{ state: EngineState; recovered: Recovered }> {
  const state = new EngineState(historyLimit);
  const recovered = await recoverWal(dir, mode, stateReplayHandler(state));
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
  return [...scanForRecords(buf)];
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

/** An abstract operation; toRecord() turns it into a record that is valid for the current state. */
export type Op =
  | {
      k: 'new';
      side: number;
      type: number;
      price: number;
      qty: number;
      strategy: number;
      reuseClientId: boolean;
    }
  | { k: 'update'; pick: number; status: number; reason: boolean }
  | { k: 'fill'; pick: number; percent: number; price: number }
  | { k: 'cancel'; pick: number }
  /** Wait for durability here, so that batches (and fsyncs) fall in between. */
  | { k: 'flush' }
  /** An explicit checkpoint, as the engine takes before a backup. */
  | { k: 'checkpoint' };

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('new' as const),
      side: fc.nat(1),
      type: fc.nat(1),
      price: fc.integer({ min: 1, max: 10_000 }),
      qty: fc.integer({ min: 1, max: 1_000 }),
      strategy: fc.nat(2),
      reuseClientId: fc.nat(9).map((n) => n === 0),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('update' as const),
      pick: fc.nat(),
      status: fc.nat(),
      reason: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('fill' as const),
      pick: fc.nat(),
      percent: fc.integer({ min: 1, max: 100 }),
      price: fc.integer({ min: 1, max: 10_000 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ k: 'flush' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'checkpoint' as const }) },
);

const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const STRATEGIES = ['', 'grid', 'mm'];
const UPDATE_STATUSES = ORDER_STATUSES.filter((s) => s !== 'FILLED' && s !== 'PARTIALLY_FILLED');

function pickOrder(state: EngineState, pick: number): Order | undefined {
  // Mostly open orders, so that most operations are legal; sometimes any known order.
  const pool = pick % 5 === 0 || state.open.size === 0 ? [...state.orders.keys()] : [...state.open];
  const id = pool[pick % Math.max(1, pool.length)];
  return id === undefined ? undefined : state.orders.get(id);
}

/** A record for `op` that state.check() accepts, or null when the operation makes no sense now. */
export function toRecord(state: EngineState, op: Op): OrderRecord | null {
  let rec: OrderRecord | null = null;
  switch (op.k) {
    case 'new': {
      const id = state.nextOrderId;
      const known = [...state.byClientId.keys()];
      const clientOrderId = op.reuseClientId && known.length > 0 ? known[op.qty % known.length]! : `cl-${id}`;
      rec = {
        type: RecordType.OrderNew,
        data: {
          orderId: id,
          clientOrderId,
          symbol: SYMBOLS[op.price % SYMBOLS.length]!,
          side: op.side === 0 ? 'BUY' : 'SELL',
          type: op.type === 0 ? 'LIMIT' : 'MARKET',
          timeInForce: op.type === 0 ? 'GTC' : 'IOC',
          price: op.type === 0 ? op.price : 0,
          quantity: op.qty,
          strategy: STRATEGIES[op.strategy]!,
        },
      };
      break;
    }
    case 'update': {
      const o = pickOrder(state, op.pick);
      if (!o) return null;
      const legal = UPDATE_STATUSES.filter((s) => canTransition(o.status, s));
      const status = legal.length > 0 ? legal[op.status % legal.length]! : 'ACCEPTED';
      rec = {
        type: RecordType.OrderUpdate,
        data: {
          orderId: o.orderId,
          status,
          reason: op.reason ? `why-${o.orderId}` : '',
          exchangeOrderId: '',
        },
      };
      break;
    }
    case 'fill': {
      const o = pickOrder(state, op.pick);
      if (!o) return null;
      const rest = o.quantity - o.filledQuantity;
      const quantity = Math.max(1, Math.floor((rest * op.percent) / 100));
      rec = {
        type: RecordType.OrderFill,
        data: { orderId: o.orderId, quantity, price: op.price, tradeId: state.nextTradeId },
      };
      break;
    }
    case 'cancel': {
      const o = pickOrder(state, op.pick);
      if (!o) return null;
      rec = { type: RecordType.OrderCancel, data: { orderId: o.orderId, reason: 'user' } };
      break;
    }
    case 'flush':
    case 'checkpoint':
      return null;
  }
  try {
    state.check(rec);
    return rec;
  } catch {
    // Illegal for the current state: the engine would refuse it before it reaches the WAL.
    return null;
  }
}

/** Runs `ops` through the harness; returns how many records were written. */
export async function runOps(h: Harness, ops: Op[], onCommit?: (seq: number) => void): Promise<number> {
  let n = 0;
  for (const op of ops) {
    if (op.k === 'flush') {
      await h.wal.flush();
      continue;
    }
    if (op.k === 'checkpoint') {
      h.wal.forceCheckpoint();
      continue;
    }
    const rec = toRecord(h.state, op);
    if (rec) {
      // Not `onCommit?.(h.commit(rec))`: optional-call arguments are skipped with the call.
      const seq = h.commit(rec);
      onCommit?.(seq);
      n += 1;
    }
  }
  return n;
}

/** A closed log written from generated operations, with the state after every order record. */
export interface LogFixture {
  dir: string;
  historyLimit: number;
  /** Normalized state after each order record's sequence number (0: the empty state). */
  stateAfter: Map<number, unknown>;
  lastSequence: number;
  /** The live state at the end. */
  final: unknown;
}

export async function writeLog(
  dir: string,
  opts: Omit<WalWriterOptions, 'now' | 'dir'>,
  historyLimit: number,
  enough: (sealedSegments: number, recordsInCurrent: number) => boolean,
  seed = 7,
): Promise<LogFixture> {
  const { h } = await Harness.open({ ...opts, dir }, historyLimit);
  const stateAfter = new Map<number, unknown>([[0, normalizedSnapshot(new EngineState(historyLimit))]]);
  for (let round = 0; round < 100; round++) {
    const ops = fc.sample(opArb, { numRuns: 40, seed: seed + round });
    await runOps(h, ops, (seq) => stateAfter.set(seq, normalizedSnapshot(h.state)));
    await h.wal.flush();
    const sealed = (await readdir(dir)).filter((n) => SEALED_SEGMENT.test(n)).length;
    const current = recordsIn(await readFile(join(dir, CURRENT_SEGMENT))).length;
    if (enough(sealed, current)) break;
  }
  await h.wal.close();
  return {
    dir,
    historyLimit,
    stateAfter,
    lastSequence: h.wal.lastSequence,
    final: normalizedSnapshot(h.state),
  };
}

/** The state as of sequence `seq`: the one after the last order record at or before it. */
export function stateAt(f: Pick<LogFixture, 'stateAfter'>, seq: number): unknown {
  let best = 0;
  for (const s of f.stateAfter.keys()) if (s <= seq && s > best) best = s;
  return f.stateAfter.get(best);
}

/**
 * Every file under `dir` (relative path -> bytes), quarantine/ included, but not the side file
 * (wal.json): it holds no records and is rewritten by design.
 */
export async function filesUnder(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (rel === '' && e.name === MARK_FILE) continue;
      if (e.isDirectory()) await walk(join(d, e.name), `${rel}${e.name}/`);
      else out.set(`${rel}${e.name}`, await readFile(join(d, e.name)));
    }
  };
  await walk(dir, '');
  return out;
}

/**
 * Names of files of `before` whose bytes no longer exist, byte for byte, somewhere in `after`
 * (the file itself may have grown: recovery appends a declared sequence jump to the current
 * segment after a loss, and appending keeps every byte).
 */
export function missingContents(before: Map<string, Buffer>, after: Map<string, Buffer>): string[] {
  const present = [...after.values()];
  return [...before]
    .filter(([name, b]) => {
      const grown = after.get(name);
      if (grown && grown.length > b.length && grown.subarray(0, b.length).equals(b)) return false;
      return !present.some((a) => a.equals(b));
    })
    .map(([name]) => name);
}
