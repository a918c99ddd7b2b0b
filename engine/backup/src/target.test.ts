// What makes a restore target "hold a WAL", on forged directories: records, damage, and the
// stray files (an empty current segment, a README, lost+found) that used to count as a WAL.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordType, encodeRecord } from '@veloz/wal/format';
import { inspectTarget, prepareTarget } from './target.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'veloz-target-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const record = (seq: number) => encodeRecord(seq, 1_700_000_000_000, RecordType.OrderNew, Buffer.from('{}'));
const put = (name: string, data: Buffer | string) => writeFile(join(dir, name), data);
const SEALED = 'orders_0000000000000001.wal';

describe('inspectTarget', () => {
  it('holds a WAL when a segment has a valid record', async () => {
    await put('orders_current.wal', Buffer.concat([record(1), record(2)]));
    expect(await inspectTarget(dir)).toEqual({
      wal: ['orders_current.wal: 2 records, sequences 1-2'],
      emptySegments: [],
      other: [],
    });
  });

  it('holds no WAL with only a side file (wal.json), and names it', async () => {
    await put('wal.json', '{}');
    expect(await inspectTarget(dir)).toEqual({ wal: [], emptySegments: [], other: ['wal.json'] });
    const p = await prepareTarget(dir, 'refuse');
    expect(p).toMatchObject({ ready: false, holdsWal: false, reason: 'holds no WAL, but: wal.json' });
  });

  it('holds a WAL when a sealed segment is damaged from its first byte (acked orders may be behind it)', async () => {
    const bytes = Buffer.concat([record(1), record(2)]);
    bytes.writeUInt8(bytes.readUInt8(33) ^ 0xff, 33);
    await put(SEALED, bytes);
    const t = await inspectTarget(dir);
    expect(t.wal).toEqual([expect.stringMatching(new RegExp(`^${SEALED}: damaged at offset 0 `))]);
  });

  it('holds no WAL with only stray files: empty, zero-filled or torn segments, and anything else', async () => {
    await put('orders_current.wal', '');
    await put(SEALED, '');
    await put('README', 'hello');
    await put('strategies.json', '{}');
    await mkdir(join(dir, 'lost+found'));
    await mkdir(join(dir, 'quarantine'));
    expect(await inspectTarget(dir)).toEqual({
      wal: [],
      emptySegments: [SEALED, 'orders_current.wal'],
      other: ['README', 'strategies.json', 'quarantine/'],
    });
    // A current segment of zeros (preallocated) or with its first record cut short: no record.
    await put('orders_current.wal', Buffer.alloc(4096));
    expect((await inspectTarget(dir)).wal).toEqual([]);
    await put('orders_current.wal', record(1).subarray(0, 20));
    expect((await inspectTarget(dir)).wal).toEqual([]);
  });
});

describe('prepareTarget', () => {
  it('is ready for an empty or missing target, and for one holding only lost+found', async () => {
    expect(await prepareTarget(join(dir, 'new', 'wal'), 'refuse')).toEqual({
      ready: true,
      stray: [],
      setAside: [],
    });
    await mkdir(join(dir, 'new', 'wal', 'lost+found'));
    expect(await prepareTarget(join(dir, 'new', 'wal'), 'refuse')).toMatchObject({ ready: true });
  });

  it('never touches a WAL without --force, and says what it holds', async () => {
    await put('orders_current.wal', record(1));
    for (const mode of ['refuse', 'if-empty'] as const) {
      expect(await prepareTarget(dir, mode)).toEqual({
        ready: false,
        holdsWal: true,
        reason: 'holds a WAL: orders_current.wal: 1 records, sequences 1-1',
      });
    }
    expect(await readFile(join(dir, 'orders_current.wal'))).toEqual(record(1));
    expect(await prepareTarget(dir, 'force')).toMatchObject({ ready: true });
    expect(await readdir(dir)).toEqual([]);
  });

  it('with --if-empty restores beside stray files, naming them and setting empty segments aside', async () => {
    await put('orders_current.wal', '');
    await put('README', 'hello');
    expect(await prepareTarget(dir, 'refuse')).toEqual({
      ready: false,
      holdsWal: false,
      reason: 'holds no WAL, but: orders_current.wal (no record), README',
    });
    const p = await prepareTarget(dir, 'if-empty');
    expect(p).toMatchObject({ ready: true, stray: ['orders_current.wal (no record)', 'README'] });
    expect(p.ready && p.setAside).toEqual([
      expect.stringMatching(new RegExp(`^${dir}/quarantine/\\d+-orders_current\\.wal$`)),
    ]);
    expect((await readdir(dir)).sort()).toEqual(['README', 'quarantine']);
  });
});
