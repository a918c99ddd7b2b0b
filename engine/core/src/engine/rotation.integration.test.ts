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

interface Ack {
  orderId: number;
  status: string;
  lastSequence: number;
}

const MAX_SIZE = 64 * 1024;
const RESTING = 600;
/** Orders left resting under load (the rest are canceled): the state, and so a build, stays small. */
const KEEP_ONE_IN = 20;
const MOMENTS = ['segment sealed', 'checkpoint file', 'segment outgrown'] as const;
type Moment = (typeof MOMENTS)[number];
const ROUNDS = MOMENTS.length * 3;

const resting = (clientOrderId: string, i: number) => ({
  symbol: 'BTCUSDT',
  side: i % 2 ? 'BUY' : 'SELL',
  type: 'LIMIT',
  quantity: '0.010',
  price: i % 2 ? '1000.00' : '900000.00',
  clientOrderId,
});

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
    const acked = new Map<string, Ack>();
    /** Orders a cancel was sent for (the kill may cut its answer after its record). */
    const cancelSent = new Set<string>();
    const landed: Moment[] = [];
    let refs = 0;
    let lastAcked = 0;
    let n = 0;
    const place = async (url: string, cid: string): Promise<number> => {
      const res = await fetch(`${url}/api/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(resting(cid, n++)),
      });
      if (res.status === 201) {
        const ack = (await res.json()) as Ack;
        acked.set(cid, ack);
        lastAcked = Math.max(lastAcked, ack.lastSequence);
      } else await res.text();
      return res.status;
    };
    try {
      const first = await startEngineProcess(env);
      for (let w = 0; w < RESTING / 50; w++) {
        const statuses = await Promise.all(
          Array.from({ length: 50 }, (_, i) => place(first.url, `fill-${w}-${i}`)),
        );
        expect(statuses.filter((s) => s !== 201)).toEqual([]);
      }
      await first.kill('SIGTERM');
      for (let round = 0; round < ROUNDS; round++) {
        const moment = MOMENTS[round % MOMENTS.length]!;
        const eng = await startEngineProcess(env);
        let stop = false;
        const worker = async (w: number) => {
          while (!stop) {
            const cid = `r${round}w${w}n${n}`;
            try {
              await place(eng.url, cid);
              const ack = acked.get(cid);
              if (ack && n % KEEP_ONE_IN !== 0) {
                cancelSent.add(cid);
                const c = await fetch(`${eng.url}/api/orders/${ack.orderId}`, { method: 'DELETE' });
                if (c.status === 200) {
                  const canceled = (await c.json()) as Ack;
                  acked.set(cid, canceled);
                  lastAcked = Math.max(lastAcked, canceled.lastSequence);
                }
              }
            } catch {
              // The kill cut the request: it was never acknowledged.
            }
          }
        };
        const workers = Array.from({ length: 16 }, (_, w) => worker(w));
        if (await watch(dir, moment, 30_000)) landed.push(moment);
        await eng.kill('SIGKILL');
        stop = true;
        await Promise.all(workers);
        refs += await leadingRefs(dir);
      }
      const eng = await startEngineProcess(env);
      try {
        const state = (await (await fetch(`${eng.url}/api/orders_state`)).json()) as {
          orders: Array<Ack & { clientOrderId: string }>;
        };
        const byClient = new Map(state.orders.map((o) => [o.clientOrderId, o]));
        const missing: string[] = [];
        for (const [cid, ack] of acked) {
          const got = byClient.get(cid);
          // A canceled order may have left the state (VELOZ_ORDER_HISTORY); its records are
          // checked below with every other acknowledged record. One never canceled rests.
          if (!got && (ack.status === 'CANCELED' || cancelSent.has(cid))) continue;
          if (!got) {
            missing.push(cid);
            continue;
          }
          expect(got.orderId).toBe(ack.orderId);
          expect(got.lastSequence).toBeGreaterThanOrEqual(ack.lastSequence);
          // (One acknowledged open may be canceled by a request the kill cut after its record.)
          if (ack.status === 'CANCELED') expect(got.status).toBe('CANCELED');
        }
        expect(missing).toEqual([]);
        // Every acknowledged record: the log reaches the newest and has no gap (verified below).
        const wal = (await (await fetch(`${eng.url}/api/wal/status`)).json()) as { lastSequence: number };
        expect(wal.lastSequence).toBeGreaterThanOrEqual(lastAcked);
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
