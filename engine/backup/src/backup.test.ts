import { describe, expect, it } from 'vitest';
import { RecordType, encodeRecord } from '@veloz/wal/format';
import { encodeRotation } from '@veloz/wal/payloads';
import type { BackupRef, Manifest } from './manifest.ts';
import {
  backupName,
  emptySegment,
  isBackupName,
  lastCheckpointOf,
  partKey,
  type ManifestSegment,
} from './manifest.ts';
import { choose } from './restore.ts';
import { parseHave } from '@veloz/wal/snapshot-format';
import { TAR_END, TarError, readTar, tarHeader, tarPadding } from '@veloz/wal/tar';
import { BackupVerifyError, RecordVerifier } from './verify.ts';

async function* chunked(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

function tar(files: Array<[string, Buffer]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, data] of files)
    parts.push(tarHeader(name, data.length, 0), data, tarPadding(data.length));
  parts.push(TAR_END);
  return Buffer.concat(parts);
}

async function readAll(src: AsyncIterable<Buffer>, skip: Set<string> = new Set()) {
  const out: Array<[string, string]> = [];
  for await (const e of readTar(src)) {
    if (skip.has(e.name)) continue;
    const chunks: Buffer[] = [];
    for await (const c of e.body) chunks.push(c);
    out.push([e.name, Buffer.concat(chunks).toString()]);
  }
  return out;
}

describe('tar', () => {
  const files: Array<[string, Buffer]> = [
    ['backup.json', Buffer.from('{"a":1}')],
    ['empty', Buffer.alloc(0)],
    ['orders_current.wal', Buffer.alloc(1500, 7)],
  ];

  it.each([1, 7, 512, 100_000])('reads back what it wrote in chunks of %i bytes', async (size) => {
    expect(await readAll(chunked(tar(files), size))).toEqual(files.map(([n, d]) => [n, d.toString()]));
  });

  it('skips an entry the reader does not consume', async () => {
    const got = await readAll(chunked(tar(files), 100), new Set(['backup.json']));
    expect(got.map(([n]) => n)).toEqual(['empty', 'orders_current.wal']);
  });

  it('fails on a stream cut short and on a damaged header', async () => {
    const t = tar(files);
    await expect(readAll(chunked(t.subarray(0, 1200), 64))).rejects.toThrow(TarError);
    const bad = Buffer.from(t);
    bad.writeUInt8(bad.readUInt8(3) ^ 1, 3);
    await expect(readAll(chunked(bad, 64))).rejects.toThrow(/checksum/);
  });
});

describe('RecordVerifier', () => {
  const recs = [1, 2, 3].map((s) =>
    encodeRecord(s, 1000 + s, RecordType.OrderCancel, Buffer.alloc(s * 40, s)),
  );
  const log = Buffer.concat([
    ...recs,
    encodeRecord(4, 1004, RecordType.Rotation, encodeRotation({ sealedSegment: 1 })),
  ]);

  it.each([1, 13, 64, 10_000])('checks records split across chunks of %i bytes', (size) => {
    const v = new RecordVerifier('seg');
    for (let i = 0; i < log.length; i += size) v.push(log.subarray(i, i + size));
    expect(v.finish()).toMatch(/^[0-9a-f]{8}$/);
    expect(v.stats).toMatchObject({
      entries: 4,
      firstSequence: 1,
      lastSequence: 4,
      lastTimestamp: 1004,
      rotated: true,
    });
  });

  it.each([
    ['a flipped bit', (b: Buffer) => (b[recs[0]!.length + 40]! ^= 1), /checksum mismatch/],
    ['a cut-off end', (b: Buffer) => b.fill(0, b.length - 8), /bad record magic|truncated|checksum/],
  ])('rejects %s with the offset', (_name, damage, re) => {
    const b = Buffer.from(log);
    damage(b);
    const v = new RecordVerifier('seg');
    expect(() => {
      v.push(b);
      v.finish();
    }).toThrow(re);
  });

  it('rejects a record after the rotation, a sequence gap, and bytes ending inside a record', () => {
    expect(() => new RecordVerifier('s').push(Buffer.concat([log, recs[0]!]))).toThrow(/after a rotation/);
    expect(() => new RecordVerifier('s', 0, 2).push(log)).toThrow(/sequence 1 where 2 was expected/);
    const v = new RecordVerifier('s');
    v.push(log.subarray(0, log.length - 3));
    expect(() => v.finish()).toThrow(BackupVerifyError);
  });
});

function ref(name: string, first: number, last: number, t0: number, t1: number): BackupRef {
  return {
    name,
    manifest: { firstSequence: first, lastSequence: last, firstTimestamp: t0, lastTimestamp: t1 } as Manifest,
  };
}

describe('choose', () => {
  const backups = [
    ref('a', 1, 100, 1000, 2000),
    ref('b', 1, 200, 1000, 3000),
    ref('c', 150, 300, 2500, 4000),
  ];

  it.each([
    [{}, 'c', null],
    [{ upToSequence: 100 }, 'a', null],
    [{ upToSequence: 50 }, 'a', { upToSequence: 50 }],
    [{ upToSequence: 120 }, 'b', { upToSequence: 120 }],
    [{ upToSequence: 250 }, 'c', { upToSequence: 250 }],
    [{ upToTime: 1500 }, 'a', { upToTime: 1500 }],
    [{ upToTime: 3500 }, 'c', { upToTime: 3500 }],
    [{ upToTime: 9000 }, 'c', null],
  ])('target %j -> backup %s cut at %j', (target, name, cut) => {
    const r = choose(backups, target);
    expect(r.ref.name).toBe(name);
    expect(r.cut).toEqual(cut);
  });

  it('says what the backups hold when none reaches the target', () => {
    expect(() => choose(backups, { upToSequence: 301 })).toThrow(
      /no backup holds sequence 301 \(backups hold 1-100, 1-200, 150-300\)/,
    );
    expect(() => choose(backups, { upToTime: 10 })).toThrow(/no backup holds records at or before/);
  });
});

describe('names and parameters', () => {
  it('backup names sort by time and round-trip through isBackupName', () => {
    const a = backupName(Date.UTC(2026, 1, 12, 20, 18, 48, 123), 42);
    expect(a).toBe('20260212T201848123Z-0000000000000042');
    expect(isBackupName(a)).toBe(true);
    expect(isBackupName('segments')).toBe(false);
    expect(partKey('17.0000abcd', 0, 4096)).toBe(
      'segments/17-0000abcd-0000000000000000-0000000000004096.wal',
    );
  });

  it('parses have= and ignores what does not parse', () => {
    expect([...parseHave('1.0000abcd:4096,x,2.deadbeef:0')]).toEqual([
      ['1.0000abcd', 4096],
      ['2.deadbeef', 0],
    ]);
    expect(parseHave(undefined).size).toBe(0);
  });
});

describe('lastCheckpointOf', () => {
  const seg = (name: string, checkpointSequence?: number | null, checkpoint?: true): ManifestSegment => ({
    ...emptySegment(name, null, true),
    ...(checkpointSequence === undefined ? {} : { checkpointSequence }),
    ...(checkpoint ? { checkpoint } : {}),
  });

  it('is the newest segment with a checkpoint, past checkpoint files and segments without one', () => {
    expect(
      lastCheckpointOf([
        seg('a', 1),
        seg('b', 40),
        seg('c', null),
        seg('checkpoint_x.json', undefined, true),
      ]),
    ).toEqual({ segment: 'b', sequence: 40 });
  });

  it('is unknown when a newer segment comes from a manifest that did not record it', () => {
    expect(lastCheckpointOf([seg('a', 1), seg('b')])).toBeUndefined();
    expect(lastCheckpointOf([seg('a'), seg('b', 7)])).toEqual({ segment: 'b', sequence: 7 });
    expect(lastCheckpointOf([seg('a', null)])).toBeUndefined();
  });
});
