// kill -9 at segment rotations (ADR 0019): a full segment waits for a checkpoint built off the
// order path, then is sealed and the new one starts with the checkpoint's reference. Each round
// kills a real engine under order load at one moment of that: just after the segment outgrew
// VELOZ_WAL_MAX_SIZE (the build under way), as soon as a checkpoint file appears (before or just
// after its reference), or as soon as a segment is sealed (the new one empty or just started).
// Every acknowledged record is still in the log, every acknowledged order comes back as it was
// acknowledged, and the log verifies.
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecordType } from '@veloz/wal/format';
import { bufferReader } from '@veloz/wal/reader';
import { verifyWal } from '@veloz/wal/recovery';
import { CURRENT_SEGMENT, SEALED_SEGMENT, SNAPSHOT_FILE } from '@veloz/wal/segments';
import { startEngineProcess } from '@veloz/testing/engine-process';
import { AckedOrders, killUnderLoad, restingOrder } from '@veloz/testing/kill-under-load';

const MAX_SIZE = 64 * 1024;
const RESTING = 600;
/** Orders left resting under load (the rest are canceled): the state, and so a build, stays small. */
const KEEP_ONE_IN = 20;
const MOMENTS = ['segment sealed', 'checkpoint file', 'segment outgrown'] as const;
type Moment = (typeof MOMENTS)[number];
const ROUNDS = MOMENTS.length * 3;

/**
 * Where the engine's first rotation after its start is due: past VELOZ_WAL_MAX_SIZE, and (when
 * the start wrote the checkpoint a new segment owes) once the segment holds as many bytes of
 * records after that checkpoint as it has. A restart knows no earlier leading checkpoint.
 */
async function rotationDueAt(dir: string): Promise<number> {
  const buf = await readFile(join(dir, CURRENT_SEGMENT));
  const r = bufferReader(buf);
  const lead = r.advance() && r.type === RecordType.Checkpoint ? r.size : 0;
  return Math.max(MAX_SIZE, 2 * lead);
}

/** Resolves once `moment` is seen in `dir` (polled), or after `limitMs` with false. */
async function watch(dir: string, moment: Moment, limitMs: number): Promise<boolean> {
  const list = async () => (await readdir(dir).catch(() => [] as string[])).sort();
  const before = await list();
  const sealed = (names: string[]) => names.filter((n) => SEALED_SEGMENT.test(n)).at(-1);
  const files = (names: string[]) => new Set(names.filter((n) => SNAPSHOT_FILE.test(n)));
  const known = files(before);
  // A little past it: the build has started, and takes longer than a few records' time.
  const outgrown = (await rotationDueAt(dir)) + 1024;
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (moment === 'segment outgrown') {
      const size = await stat(join(dir, CURRENT_SEGMENT)).then(
        (s) => s.size,
        () => 0,
      );
      if (size > outgrown) return true;
    } else {
      const now = await list();
      if (moment === 'segment sealed' && sealed(now) !== sealed(before)) return true;
      if (moment === 'checkpoint file' && [...files(now)].some((f) => !known.has(f))) return true;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  return false;
}

/** How many segments in `dir` start with a CheckpointRef record. */
async function leadingRefs(dir: string): Promise<number> {
  let n = 0;
  for (const name of await readdir(dir)) {
    if (name !== CURRENT_SEGMENT && !SEALED_SEGMENT.test(name)) continue;
    const r = bufferReader(await readFile(join(dir, name)));
    if (r.advance() && r.type === RecordType.CheckpointRef) n += 1;
  }
  return n;
}

describe('segment rotation off the order path', () => {
  it(`keeps every acknowledged order across ${ROUNDS} SIGKILLs at rotations`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veloz-rotation-crash-'));
    const env = {
      VELOZ_WAL_DIR: dir,
      VELOZ_ORDER_RATE_LIMIT: '1000000',
      VELOZ_RISK_MAX_OPEN_ORDERS: '1000000',
      // Finished orders leave the state soon: the state stays small, so rotations come often.
      VELOZ_ORDER_HISTORY: '200',
      VELOZ_IDEMPOTENCY_WINDOW: '1',
      VELOZ_WAL_MAX_SIZE: String(MAX_SIZE),
      // Retention deletes segments (and the files they name) at every rotation.
      VELOZ_WAL_MAX_FILES: '2',
      // Only rotations (and a restart's owed one) checkpoint.
      VELOZ_WAL_CHECKPOINT_INTERVAL: '0',
    };
    const orders = new AckedOrders();
    const landed: Moment[] = [];
    let refs = 0;
    let n = 0;
    const place = (url: string, cid: string) => orders.place(url, restingOrder(cid, n++));
    try {
      const first = await startEngineProcess(env);
      await orders.placeAll(first.url, RESTING, (i) => restingOrder(`fill-${i}`, n++));
      await first.kill('SIGTERM');
      for (let round = 0; round < ROUNDS; round++) {
        const moment = MOMENTS[round % MOMENTS.length]!;
        await killUnderLoad(
          env,
          async (url, w) => {
            const cid = `r${round}w${w}n${n}`;
            const ack = await place(url, cid);
            if (ack && n % KEEP_ONE_IN !== 0) await orders.cancel(url, cid, ack.orderId);
          },
          async () => {
            if (await watch(dir, moment, 30_000)) landed.push(moment);
          },
        );
        refs += await leadingRefs(dir);
      }
      const eng = await startEngineProcess(env);
      try {
        const { missing, behind } = await orders.lostAt(eng.url);
        expect(behind).toEqual([]);
        // A canceled order may have left the state (VELOZ_ORDER_HISTORY); its records are
        // checked below with every other acknowledged record. One never canceled rests.
        const lost = missing.filter(
          (cid) => orders.acked.get(cid)?.status !== 'CANCELED' && !orders.cancelSent.has(cid),
        );
        expect(lost).toEqual([]);
        // Every acknowledged record: the log reaches the newest and has no gap (verified below).
        const wal = (await (await fetch(`${eng.url}/api/wal/status`)).json()) as { lastSequence: number };
        expect(wal.lastSequence).toBeGreaterThanOrEqual(orders.lastSequence);
        // Kills between a seal and its retention (or a seal a start finished) leave extra sealed
        // segments: the next rotation deletes them.
        let stop = false;
        const load = (async () => {
          for (let k = 0; !stop; k++) await place(eng.url, `last-${k}`).catch(() => 0);
        })();
        expect(await watch(dir, 'segment sealed', 30_000)).toBe(true);
        stop = true;
        await load;
      } finally {
        await eng.kill('SIGTERM');
      }
      // Each moment was hit at least once (the kill may land a little after it).
      expect(new Set(landed)).toEqual(new Set(MOMENTS));
      const report = await verifyWal(dir);
      expect(report.problems).toEqual([]);
      expect(report.strayFiles).toEqual([]);
      // Retention kept its bound, and the rotations under load started segments with references.
      expect(report.segments.length).toBeLessThanOrEqual(3);
      expect(refs).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 900_000);
});
