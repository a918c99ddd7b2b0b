// A checkpoint kept in its own file (ADR 0019), crashed at every step: the directory is copied
// exactly where a SIGKILL could land (after the snapshot's write, after its fdatasync, after the
// rename into place, after a rotation sealed the segment before the reference that starts the
// next one, after its CheckpointRef record is durable, after retention deleted the old segment
// with its files). A SIGKILL keeps the page cache, so the copy is what a restart finds;
// each copy must recover every record that was durable (acknowledged) when it was taken, to the
// state a plain replay of the same records gives. A power cut before the fdatasync is covered by
// a torn copy of the snapshot's temp file.
import { cpSync, readdirSync, truncateSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordType } from '@veloz/wal/format';
import type { OrderRecord } from '@veloz/wal/payloads';
import { SNAPSHOT_FILE, SNAPSHOT_TEMP, listSegments } from '@veloz/wal/segments';
import type { CheckpointStep } from '@veloz/wal/writer';
import {
  Harness,
  TempDirs,
  normalizedSnapshot,
  opArb,
  recoverState,
  recordsIn,
  toRecord,
} from '@veloz/testing/wal-testkit';
import { backgroundCheckpoints } from './background-checkpoint.ts';
import { EngineState } from './state.ts';

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

interface Crash {
  step: CheckpointStep | 'snapshot-torn';
  copy: string;
  /** Every record up to this one was acknowledged when the copy was taken. */
  durable: number;
}

const STEPS: Crash['step'][] = [
  'snapshot-written',
  'snapshot-torn',
  'snapshot-synced',
  'snapshot-renamed',
  'segment-sealed',
  'reference-durable',
  'retention-deleted',
];

describe('a checkpoint in its own file', () => {
  // Interval 0: every checkpoint is a rotation's (the build that seals the full segment).
  it.each([25, 0])(
    'loses no acknowledged record wherever a crash cuts its write, its reference or retention (interval %i)',
    async (checkpointInterval) => {
      const dir = await dirs.make();
      const crashes: Crash[] = [];
      const copies = await dirs.make('veloz-ckpt-crash-');
      let h: Harness | null = null;
      const crashHere = (step: Crash['step']): void => {
        const copy = join(copies, String(crashes.length));
        cpSync(dir, copy, { recursive: true });
        crashes.push({ step, copy, durable: h!.wal.durableSequence });
      };
      const opened = await Harness.open({
        dir,
        maxSegmentBytes: 24 * 1024,
        maxFiles: 1,
        sync: true,
        checkpointInterval,
        hooks: {
          onCheckpointStep: (step) => {
            crashHere(step);
            if (step === 'snapshot-written') {
              // A power cut before the fdatasync may leave the temp file short.
              crashHere('snapshot-torn');
              const copy = crashes.at(-1)!.copy;
              for (const f of readdirSync(copy)) if (SNAPSHOT_TEMP.test(f)) truncateSync(join(copy, f), 7);
            }
          },
        },
      });
      h = opened.h;
      const live = h;
      live.wal.setBackgroundCheckpoint(
        backgroundCheckpoints(live.state, live.wal, {
          sliceOrders: 16,
          onError: (err) => {
            throw err;
          },
        }),
      );
      // Every record committed, to replay them without any checkpoint.
      const history: Array<{ seq: number; t: number; rec: OrderRecord }> = [];
      const ops = fc.sample(opArb, { seed: 20, numRuns: 6000 });
      const seen = () => new Set(crashes.map((c) => c.step));
      for (let i = 0; i < ops.length && seen().size < STEPS.length; i++) {
        const op = ops[i]!;
        if (op.k === 'flush' || op.k === 'checkpoint') {
          await live.wal.flush();
          // Turns for the slices, and time for the file's write.
          await new Promise((r) => setTimeout(r, 1));
          continue;
        }
        const rec = toRecord(live.state, op);
        if (!rec) continue;
        const seq = live.commit(rec);
        history.push({ seq, t: live.clock.t, rec });
      }
      await live.wal.flush();
      while (live.wal.checkpointInProgress) await new Promise((r) => setTimeout(r, 5));
      await live.wal.close();
      expect([...seen()].sort()).toEqual([...STEPS].sort());
      expect(crashes.length).toBeGreaterThan(STEPS.length);

      for (const c of crashes) {
        const { state, recovered } = await recoverState(c.copy);
        expect(recovered.lastSequence, `${c.step}: acknowledged records lost`).toBeGreaterThanOrEqual(
          c.durable,
        );
        const replayed = new EngineState(1000);
        for (const r of history) {
          if (r.seq > recovered.lastSequence) break;
          replayed.check(r.rec);
          replayed.apply(r.rec, r.seq, r.t);
        }
        expect(normalizedSnapshot(state), c.step).toEqual(normalizedSnapshot(replayed));
        // Right after its reference is durable, recovery starts from the file.
        if (c.step === 'reference-durable')
          expect(recovered.replayedEntries).toBeLessThan(recovered.lastSequence);
        if (c.step === 'reference-durable') expect(recovered.snapshotFiles.length).toBeGreaterThan(0);
        // Left with the files its records name: no temp file, no snapshot nothing refers to.
        const left = await readdir(c.copy);
        expect(
          left.filter((f) => SNAPSHOT_TEMP.test(f)),
          c.step,
        ).toEqual([]);
        const named = new Set(recovered.snapshotFiles.map((s) => s.file));
        expect(
          left.filter((f) => SNAPSHOT_FILE.test(f) && !named.has(f)),
          c.step,
        ).toEqual([]);
      }
      // Retention took the files of the segments it deleted: only the kept segments' remain.
      const recovered = (await recoverState(dir)).recovered;
      expect(recovered.report.segments.length).toBeLessThanOrEqual(2);
      expect((await readdir(dir)).filter((f) => SNAPSHOT_FILE.test(f)).sort()).toEqual(
        recovered.snapshotFiles.map((s) => s.file).sort(),
      );
      // Rotations took no inline checkpoint: the segments start with references.
      for (const seg of (await listSegments(dir)).segments) {
        const [first] = recordsIn(await readFile(join(dir, seg.name)));
        expect(first?.type, seg.name).toBe(RecordType.CheckpointRef);
      }
    },
  );
});
