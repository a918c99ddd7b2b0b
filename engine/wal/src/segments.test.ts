import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TempDirs } from '@veloz/testing/wal-testkit';
import {
  CURRENT_SEGMENT,
  QUARANTINE_DIR,
  SEALED_SEGMENT,
  listSegments,
  sealCurrentSegment,
  sealedSegmentName,
  snapshotFileName,
} from './segments.ts';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

describe('segment names', () => {
  it.each([
    { n: 1, name: 'orders_0000000000000001.wal' },
    { n: 42, name: 'orders_0000000000000042.wal' },
    { n: 1234567890123456, name: 'orders_1234567890123456.wal' },
  ])('sealed segment $n is $name', ({ n, name }) => {
    expect(sealedSegmentName(n)).toBe(name);
    expect(SEALED_SEGMENT.exec(name)?.[1]).toBe(String(n).padStart(16, '0'));
  });

  it.each([
    CURRENT_SEGMENT,
    'orders_1.wal',
    'orders_00000000000000001.wal',
    'orders_0000000000000001.wal.tmp',
    'xorders_0000000000000001.wal',
    'orders_000000000000000a.wal',
  ])('%s is not a sealed segment name', (name) => {
    expect(SEALED_SEGMENT.test(name)).toBe(false);
  });

  it('names the current segment as in the seeds', () => {
    expect(CURRENT_SEGMENT).toBe('orders_current.wal');
  });
});

describe('listSegments', () => {
  it('lists sealed segments by number, then the current one, and everything else as stray', async () => {
    const dir = await dirs.make();
    for (const name of [CURRENT_SEGMENT, sealedSegmentName(10), sealedSegmentName(9), sealedSegmentName(100)])
      await writeFile(join(dir, name), '');
    await writeFile(join(dir, 'notes.txt'), 'x');
    await writeFile(join(dir, 'orders_1.wal'), 'x');
    await mkdir(join(dir, sealedSegmentName(3)));
    await mkdir(join(dir, QUARANTINE_DIR));
    const { segments, stray } = await listSegments(dir);
    expect(segments).toEqual([
      { name: sealedSegmentName(9), number: 9 },
      { name: sealedSegmentName(10), number: 10 },
      { name: sealedSegmentName(100), number: 100 },
      { name: CURRENT_SEGMENT, number: null },
    ]);
    // A directory is never a segment, even under a segment's name.
    expect(stray.sort()).toEqual([sealedSegmentName(3), 'notes.txt', 'orders_1.wal'].sort());
  });

  it('has no current segment when the file is missing, and a file named quarantine is stray', async () => {
    const dir = await dirs.make();
    await writeFile(join(dir, sealedSegmentName(1)), '');
    await writeFile(join(dir, QUARANTINE_DIR), '');
    expect(await listSegments(dir)).toEqual({
      segments: [{ name: sealedSegmentName(1), number: 1 }],
      snapshots: [],
      snapshotTemps: [],
      stray: [QUARANTINE_DIR],
    });
  });

  it('lists checkpoint files and their unfinished temp files apart from the segments', async () => {
    const dir = await dirs.make();
    await writeFile(join(dir, snapshotFileName(20)), '{}');
    await writeFile(join(dir, snapshotFileName(3)), '{}');
    await writeFile(join(dir, `${snapshotFileName(40)}.tmp`), '{');
    await writeFile(join(dir, 'checkpoint_1.json'), '{}');
    expect(await listSegments(dir)).toEqual({
      segments: [],
      snapshots: [snapshotFileName(3), snapshotFileName(20)],
      snapshotTemps: [`${snapshotFileName(40)}.tmp`],
      stray: ['checkpoint_1.json'],
    });
  });
});

describe('sealCurrentSegment', () => {
  it('renames the current segment to the sealed name of its number', async () => {
    const dir = await dirs.make();
    await writeFile(join(dir, CURRENT_SEGMENT), 'bytes');
    expect(await sealCurrentSegment(dir, 7)).toBe(sealedSegmentName(7));
    expect(await readdir(dir)).toEqual([sealedSegmentName(7)]);
    expect(await readFile(join(dir, sealedSegmentName(7)), 'utf8')).toBe('bytes');
  });
});
