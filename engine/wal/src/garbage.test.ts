// Whatever else lies in the WAL directory -- random bytes under segment names, forged records,
// copies of real segments, unrelated files and directories -- recovery and verify either succeed
// with every durable record or refuse with a WalCorruptionError; they never crash otherwise and
// never drop a record silently.
import fc from 'fast-check';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineState } from '@veloz/engine/engine/state';
import { HEADER_SIZE, MAGIC, RecordType, encodeRecord } from './framing.ts';
import { CURRENT_SEGMENT, SEALED_SEGMENT, sealedSegmentName } from './segments.ts';
import { encodeOrderRecord } from './payloads.ts';
import { WalCorruptionError, verifyWal, type RecoveryMode } from './recovery.ts';
import {
  TempDirs,
  filesUnder,
  missingContents,
  normalizedSnapshot,
  recoverState,
  sequencesOnDisk,
  writeLog,
  type LogFixture,
} from '@veloz/testing/wal-testkit';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const HISTORY = 3;
let log: LogFixture;
let segments: Map<string, Buffer>;
beforeAll(async () => {
  log = await writeLog(
    await dirs.make(),
    { maxSegmentBytes: 2500, maxFiles: 100, sync: false, checkpointInterval: 6 },
    HISTORY,
    (n) => n >= 3,
  );
  segments = await filesUnder(log.dir);
});

type Garbage = { kind: 'file'; name: string; bytes: Uint8Array } | { kind: 'dir'; name: string };

const STRAY_NAMES = [
  'notes.txt',
  'orders_current.wal.bak',
  '.orders_current.wal.swp',
  'orders_1.wal',
  'orders_00000000000000001.wal',
  'ORDERS_0000000000000001.WAL',
  'orders_0000000000000001.wal.tmp',
  'lost+found',
];

function contentArb(): fc.Arbitrary<Uint8Array> {
  const forged = fc
    .record({
      seq: fc.integer({ min: 0, max: 200 }),
      type: fc.integer({ min: 0, max: 8 }),
      payload: fc.uint8Array({ maxLength: 64 }),
    })
    .map(({ seq, type, payload }) => encodeRecord(seq, 1, type as RecordType, payload));
  const withMagic = fc.uint8Array({ minLength: HEADER_SIZE, maxLength: 300 }).map((b) => {
    const buf = Buffer.from(b);
    buf.writeUInt32LE(MAGIC, 28);
    buf.writeUInt32LE(buf.readUInt32LE(0) % 512, 0);
    return new Uint8Array(buf);
  });
  const realSegment = fc.nat().map((i) => {
    const all = [...segments.values()];
    return new Uint8Array(all[i % all.length]!);
  });
  const flippedSegment = fc.tuple(realSegment, fc.nat(), fc.nat(7)).map(([b, at, bit]) => {
    const copy = Buffer.from(b);
    if (copy.length > 0) copy[at % copy.length]! ^= 1 << bit;
    return new Uint8Array(copy);
  });
  return fc.oneof(
    fc.uint8Array({ maxLength: 400 }),
    fc.constant(new Uint8Array(0)),
    withMagic,
    fc.array(forged, { minLength: 1, maxLength: 4 }).map((rs) => new Uint8Array(Buffer.concat(rs))),
    realSegment,
    flippedSegment,
  );
}

const garbageArb: fc.Arbitrary<Garbage> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('file' as const),
      name: fc.integer({ min: 0, max: 30 }).map(sealedSegmentName),
      bytes: contentArb(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('file' as const),
      name: fc.oneof(fc.constantFrom(...STRAY_NAMES), fc.stringMatching(/^[a-z0-9_.-]{1,24}$/)),
      bytes: contentArb(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('dir' as const),
      name: fc.oneof(
        fc.constantFrom('lost+found', 'backup'),
        fc.integer({ min: 0, max: 30 }).map(sealedSegmentName),
      ),
    }),
  },
);

/** Adds garbage to `dir` without touching a file that is already there. */
async function addGarbage(dir: string, garbage: Garbage[]): Promise<string[]> {
  const existing = new Set(await readdir(dir));
  const added: string[] = [];
  for (const g of garbage) {
    if (existing.has(g.name) || g.name === '.' || g.name === '..' || g.name === 'quarantine') continue;
    existing.add(g.name);
    if (g.kind === 'dir') await mkdir(join(dir, g.name));
    else await writeFile(join(dir, g.name), g.bytes);
    added.push(g.name);
  }
  return added;
}

async function attempt(
  dir: string,
  mode: RecoveryMode,
): Promise<
  { ok: true; value: Awaited<ReturnType<typeof recoverState>> } | { ok: false; error: WalCorruptionError }
> {
  try {
    return { ok: true, value: await recoverState(dir, mode, HISTORY) };
  } catch (e) {
    // Anything but a WalCorruptionError fails the property.
    if (e instanceof WalCorruptionError) return { ok: false, error: e };
    throw e;
  }
}

describe('garbage in the WAL directory', () => {
  it('never crashes recovery or verify, and never silently drops a durable record', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(garbageArb, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        async (garbage, withLog) => {
          const strictDir = await dirs.make();
          if (withLog) await cp(log.dir, strictDir, { recursive: true });
          const added = await addGarbage(strictDir, garbage);
          const truncDir = await dirs.make();
          await cp(strictDir, truncDir, { recursive: true });
          const durable = withLog ? await sequencesOnDisk(log.dir) : new Set<number>();
          // A state recovered from this directory must be one the log itself went through (an
          // empty directory's only history is the empty state).
          const history = new Set([...log.stateAfter.values()].map((v) => JSON.stringify(v)));
          const isHistorical = (state: EngineState): boolean =>
            history.has(JSON.stringify(normalizedSnapshot(state)));

          const report = await verifyWal(strictDir);
          expect(typeof report.healthy).toBe('boolean');

          const before = await filesUnder(strictDir);
          const strict = await attempt(strictDir, 'strict');
          if (strict.ok) {
            expect(report.healthy).toBe(true);
            expect(isHistorical(strict.value.state)).toBe(true);
            if (withLog) {
              // Success means everything durable is back, exactly.
              expect(strict.value.recovered.lastSequence).toBe(log.lastSequence);
              expect(normalizedSnapshot(strict.value.state)).toEqual(log.final);
            }
          } else {
            expect(strict.error.file.startsWith(strictDir)).toBe(true);
            expect(report.healthy).toBe(false);
          }
          // Strict recovery never moves or rewrites anything but a torn tail (there is none here).
          expect(missingContents(before, await filesUnder(strictDir))).toEqual([]);

          const beforeTrunc = await filesUnder(truncDir);
          const trunc = await attempt(truncDir, 'truncate_at_corruption');
          const after = await filesUnder(truncDir);
          // Nothing is ever deleted: every file's bytes are still somewhere (quarantine/ included),
          // and so is every durable record.
          expect(missingContents(beforeTrunc, after)).toEqual([]);
          const onDisk = await sequencesOnDisk(truncDir);
          for (const seq of durable) expect(onDisk.has(seq)).toBe(true);
          if (trunc.ok) {
            expect(isHistorical(trunc.value.state)).toBe(true);
            // Whatever strict recovery refused is reported as damage after truncating, too.
            if (!strict.ok) expect(trunc.value.recovered.report.healthy).toBe(false);
          }
          // Unrelated entries are left where they were.
          for (const name of added) {
            if (SEALED_SEGMENT.test(name)) continue;
            expect((await readdir(truncDir)).includes(name)).toBe(true);
          }
        },
      ),
      { numRuns: 120 },
    );
  });

  it('a directory named like a segment is a stray entry, not a read error', async () => {
    const dir = await dirs.make();
    await cp(log.dir, dir, { recursive: true });
    await mkdir(join(dir, sealedSegmentName(99)));
    const { state, recovered } = await recoverState(dir, 'strict', HISTORY);
    expect(normalizedSnapshot(state)).toEqual(log.final);
    expect(recovered.report.strayFiles).toContain(sealedSegmentName(99));
  });

  it('stray files are listed and left alone', async () => {
    const dir = await dirs.make();
    await cp(log.dir, dir, { recursive: true });
    await writeFile(join(dir, 'notes.txt'), 'hello');
    await writeFile(join(dir, 'orders_1.wal'), 'x');
    const { recovered } = await recoverState(dir, 'strict', HISTORY);
    expect(recovered.report.strayFiles.sort()).toEqual(['notes.txt', 'orders_1.wal']);
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('hello');
  });
});

describe('records that pass their checksum but make no sense', () => {
  async function logWith(records: Buffer[]): Promise<string> {
    const dir = await dirs.make();
    await writeFile(join(dir, CURRENT_SEGMENT), Buffer.concat(records));
    return dir;
  }

  it.each([
    {
      name: 'a fill of an order that does not exist',
      rec: encodeRecord(
        1,
        1,
        RecordType.OrderFill,
        encodeOrderRecord({
          type: RecordType.OrderFill,
          data: { orderId: 5, quantity: 1, price: 1, tradeId: 1 },
        }),
      ),
      reason: /record 1 \(OrderFill\) cannot be replayed: order 5 does not exist/,
    },
    {
      name: 'an order record with a malformed payload',
      rec: encodeRecord(1, 1, RecordType.OrderNew, Buffer.from([1, 2, 3])),
      reason: /record 1 \(OrderNew\) cannot be replayed: payload shorter/,
    },
    {
      name: 'a checkpoint that is not JSON',
      rec: encodeRecord(1, 1, RecordType.Checkpoint, Buffer.from('not json')),
      reason: /record 1 \(Checkpoint\) cannot be replayed/,
    },
  ])('$name is refused with its file and offset', async ({ rec, reason }) => {
    const dir = await logWith([rec]);
    for (const mode of ['strict', 'truncate_at_corruption'] as const) {
      const r = await attempt(dir, mode);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.file).toBe(join(dir, CURRENT_SEGMENT));
        expect(r.error.offset).toBe(0);
        expect(r.error.message).toMatch(reason);
        expect(r.error.cause).toBeInstanceOf(Error);
      }
    }
  });

  it('a rotation record with a malformed payload is corruption, not a crash', async () => {
    const dir = await dirs.make();
    await cp(log.dir, dir, { recursive: true });
    const buf = encodeRecord(log.lastSequence + 1, 1, RecordType.Rotation, Buffer.from([1, 2, 3]));
    await writeFile(
      join(dir, CURRENT_SEGMENT),
      Buffer.concat([await readFile(join(dir, CURRENT_SEGMENT)), buf]),
    );
    const report = await verifyWal(dir);
    expect(report.healthy).toBe(false);
    expect(report.problems.join('\n')).toContain('bad rotation record');
    const r = await attempt(dir, 'strict');
    expect(r.ok).toBe(false);
  });
});
