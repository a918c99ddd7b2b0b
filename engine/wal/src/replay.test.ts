// Property: whatever valid sequence of order operations the engine writes -- with checkpoints,
// rotations and retention happening in between -- recovery rebuilds exactly the same state.
import fc from 'fast-check';
import { readdir } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { SEALED_SEGMENT } from './segments.ts';
import { verifyWal } from './recovery.ts';
import {
  FileTap,
  Harness,
  TempDirs,
  normalizedSnapshot,
  opArb,
  recoverState,
  runOps,
  type Op,
} from '@veloz/testing/wal-testkit';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

interface Config {
  maxSegmentBytes: number;
  checkpointInterval: number;
  maxFiles: number;
  historyLimit: number;
  sync: boolean;
}

const configArb: fc.Arbitrary<Config> = fc.record({
  maxSegmentBytes: fc.integer({ min: 256, max: 6000 }),
  checkpointInterval: fc.integer({ min: 0, max: 12 }),
  maxFiles: fc.integer({ min: 1, max: 3 }),
  historyLimit: fc.integer({ min: 0, max: 6 }),
  sync: fc.boolean(),
});

const opsArb = fc.array(opArb, { minLength: 0, maxLength: 150, size: 'large' });

/** Writes `ops`, then either closes the WAL or abandons it after a flush (a crash). */
async function session(dir: string, cfg: Config, ops: Op[], crash: boolean): Promise<Harness> {
  const tap = new FileTap();
  const { h } = await Harness.open(
    {
      dir,
      maxSegmentBytes: cfg.maxSegmentBytes,
      maxFiles: cfg.maxFiles,
      sync: cfg.sync,
      checkpointInterval: cfg.checkpointInterval,
      openFile: tap.openFile,
    },
    cfg.historyLimit,
  );
  await runOps(h, ops);
  if (crash) {
    await h.wal.flush();
    // Drop the writer without close(); its file handles are closed only to free them, which
    // writes nothing.
    await tap.closeAll();
  } else {
    await h.wal.close();
  }
  return h;
}

async function expectSameAfterRecovery(dir: string, cfg: Config, live: Harness): Promise<void> {
  const { state, recovered } = await recoverState(dir, 'strict', cfg.historyLimit);
  expect(normalizedSnapshot(state)).toEqual(normalizedSnapshot(live.state));
  expect(recovered.lastSequence).toBe(live.wal.lastSequence);
  expect(state.lastSequence).toBe(live.state.lastSequence);
  expect(recovered.report.problems).toEqual([]);
  const sealed = (await readdir(dir)).filter((n) => SEALED_SEGMENT.test(n));
  expect(sealed.length).toBeLessThanOrEqual(cfg.maxFiles);
  const report = await verifyWal(dir);
  expect(report.healthy).toBe(true);
  expect(report.lastSequence).toBe(live.wal.lastSequence);
}

describe('WAL replay', () => {
  it('rebuilds the same state after close or crash, across checkpoints, rotations and retention', async () => {
    await fc.assert(
      fc.asyncProperty(
        configArb,
        opsArb,
        fc.boolean(),
        opsArb,
        fc.boolean(),
        async (cfg, ops1, crash1, ops2, crash2) => {
          const dir = await dirs.make();
          const first = await session(dir, cfg, ops1, crash1);
          await expectSameAfterRecovery(dir, cfg, first);
          // A second life on the recovered log: the writer continues the sequence and the log
          // still replays to what the live state was.
          const second = await session(dir, cfg, ops2, crash2);
          expect(second.wal.lastSequence).toBeGreaterThanOrEqual(first.wal.lastSequence);
          await expectSameAfterRecovery(dir, cfg, second);
        },
      ),
      { numRuns: 60 },
    );
    // 60 runs of real files and fsyncs: seconds on an idle machine, but half a minute when the
    // machine is shared, so the unit default would fail it for load, not for a defect.
  }, 120_000);

  it('keeps every sequence number contiguous and every record in order across many rotations', async () => {
    const dir = await dirs.make();
    const cfg: Config = {
      maxSegmentBytes: 400,
      checkpointInterval: 3,
      maxFiles: 2,
      historyLimit: 2,
      sync: false,
    };
    const ops = fc.sample(opArb, { numRuns: 600, seed: 42 });
    const live = await session(dir, cfg, ops, false);
    expect(live.wal.lastSequence).toBeGreaterThan(100);
    const report = await verifyWal(dir);
    expect(report.healthy).toBe(true);
    expect(report.segments.length).toBe(cfg.maxFiles + 1);
    await expectSameAfterRecovery(dir, cfg, live);
  });
});
