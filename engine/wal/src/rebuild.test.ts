import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TempDirs, filesUnder, writeLog, type LogFixture } from '@veloz/testing/wal-testkit';
import { bufferReader } from './reader.ts';
import { SegmentRebuilder, type RebuiltRecord } from './rebuild.ts';
import { verifyWal } from './recovery.ts';
import { listSegments } from './segments.ts';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

let log: LogFixture;
let records: RebuiltRecord[];
beforeAll(async () => {
  log = await writeLog(
    await dirs.make(),
    { maxSegmentBytes: 2500, maxFiles: 100, sync: false, checkpointInterval: 6 },
    3,
    (sealed, inCurrent) => sealed >= 3 && inCurrent >= 2,
  );
  records = [];
  for (const { name } of (await listSegments(log.dir)).segments) {
    const reader = bufferReader(await readFile(join(log.dir, name)));
    for (let r = reader.next(); r !== null; r = reader.next()) records.push({ ...r, crc: reader.crc });
    expect(reader.stop?.kind).toBe('end');
  }
});

describe('SegmentRebuilder', () => {
  it.each([1, 7, 5000])(
    'lays the records out byte for byte as the writer did (flushing every %i records)',
    async (every) => {
      const dir = await dirs.make();
      const rebuilt = await SegmentRebuilder.create(dir);
      try {
        for (const [i, r] of records.entries()) {
          expect(rebuilt.add(r)).toBe(true);
          if ((i + 1) % every === 0) await rebuilt.flush();
        }
        await rebuilt.finish();
      } finally {
        await rebuilt.close();
      }
      const original = await filesUnder(log.dir);
      expect((await readdir(dir)).sort()).toEqual([...original.keys()].sort());
      for (const [name, bytes] of await filesUnder(dir)) expect(bytes.equals(original.get(name)!)).toBe(true);
      expect(rebuilt.bytes).toBe([...original.values()].reduce((n, b) => n + b.length, 0));
      const report = await verifyWal(dir);
      expect(report.healthy).toBe(true);
      expect(report.lastSequence).toBe(log.lastSequence);
    },
  );

  it('refuses a record whose bytes do not carry the CRC it was written with', async () => {
    const dir = await dirs.make();
    const rebuilt = await SegmentRebuilder.create(dir);
    try {
      const [first] = records;
      expect(rebuilt.add({ ...first!, crc: (first!.crc ^ 1) >>> 0 })).toBe(false);
      expect(rebuilt.add({ ...first!, payload: Buffer.concat([first!.payload, Buffer.from('x')]) })).toBe(
        false,
      );
      expect(rebuilt.bytes).toBe(0);
      await rebuilt.finish();
    } finally {
      await rebuilt.close();
    }
    expect(await filesUnder(dir)).toEqual(new Map([['orders_current.wal', Buffer.alloc(0)]]));
  });
});
