// Replay half of `npm run bench:wal`. The parent writes a WAL (writeReplayWal) and measures its
// replay in a fresh child process (replayInChild), as an engine replays at start: a new process
// with the engine container's Node.js flags, not a heap the writing warmed up. Run with a
// directory it prints that measurement as JSON.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ENGINE_V8_FLAGS } from '@veloz/api/engine-node-options';
import { stateReplayHandler } from '@veloz/engine/engine/replay-handler';
import { EngineState } from '@veloz/engine/engine/state';
import { RecordType } from '@veloz/wal/format';
import { encodeOrderRecord, type OrderRecord } from '@veloz/wal/payloads';
import { recoverWal } from '@veloz/wal/recovery';
import { WalWriter } from '@veloz/wal/writer';
import { benchOrderNew } from './bench-order.ts';

/** The engine's order history in the replay (VELOZ_ORDER_HISTORY's order of magnitude). */
const HISTORY = 1000;

export function newOrder(id: number): OrderRecord {
  return benchOrderNew(id, 5_000_000 + (id % 100));
}

export async function openWal(dir: string, sync: boolean, maxSegmentBytes = 64 * 1024 * 1024) {
  const recovered = await recoverWal(dir, 'strict', {
    onCheckpoint: () => undefined,
    onRecord: () => undefined,
  });
  return WalWriter.open({ dir, maxSegmentBytes, maxFiles: 1000, sync, checkpointInterval: 0 }, recovered);
}

/** Writes `n` records of a realistic life cycle (new, accepted, filled); returns the last sequence. */
export async function writeReplayWal(dir: string, n: number): Promise<number> {
  const wal = await openWal(dir, false);
  const state = new EngineState(HISTORY);
  wal.setSnapshotProvider(() => state.snapshot());
  let written = 0;
  for (let id = 1; written < n; id++) {
    const recs: OrderRecord[] = [
      newOrder(id),
      {
        type: RecordType.OrderUpdate,
        data: { orderId: id, status: 'ACCEPTED', reason: '', exchangeOrderId: '' },
      },
      { type: RecordType.OrderFill, data: { orderId: id, quantity: 1000, price: 5_000_000, tradeId: id } },
    ];
    for (const r of recs.slice(0, n - written)) {
      state.check(r);
      state.apply(r, wal.append(r.type, encodeOrderRecord(r)), 0);
      written++;
    }
    if (id % 10_000 === 0) await wal.flush();
  }
  await wal.close();
  return state.lastSequence;
}

export interface ReplayFigures {
  /** Entries per second, read + verify only (a handler that does nothing). */
  walOnly: number;
  /** Entries per second into the engine's state, through the engine's replay handler. */
  engine: number;
  /** Entries per second of CPU time (user + system) of the replay into the state. */
  engineCpu: number;
  lastSequence: number;
  bytes: number;
  /** Peak resident set size of the replaying process, in bytes. */
  maxRssBytes: number;
}

/** Replays `dir` twice in this process: read + verify only, then into a fresh engine state. */
export async function measureReplay(dir: string): Promise<ReplayFigures> {
  const t0 = performance.now();
  const raw = await recoverWal(dir, 'strict', { onCheckpoint: () => undefined, onRecord: () => undefined });
  const walOnly = raw.replayedEntries / ((performance.now() - t0) / 1000);
  const state = new EngineState(HISTORY);
  const cpu0 = process.cpuUsage();
  const t1 = performance.now();
  const rec = await recoverWal(dir, 'strict', stateReplayHandler(state));
  const engine = rec.replayedEntries / ((performance.now() - t1) / 1000);
  const cpu = process.cpuUsage(cpu0);
  return {
    walOnly,
    engine,
    engineCpu: rec.replayedEntries / ((cpu.user + cpu.system) / 1e6),
    lastSequence: state.lastSequence,
    bytes: rec.report.segments.reduce((s, x) => s + x.size, 0),
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

/** measureReplay(dir) in a new Node.js process started with `flags` (the engine's, by default). */
export async function replayInChild(
  dir: string,
  flags: readonly string[] = ENGINE_V8_FLAGS,
): Promise<ReplayFigures> {
  const child = spawn(process.execPath, [...flags, fileURLToPath(import.meta.url), dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`replay process exited with ${code}: ${out}`);
  return JSON.parse(out) as ReplayFigures;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: node wal-replay.ts WAL_DIR');
  process.stdout.write(JSON.stringify(await measureReplay(dir)));
}
