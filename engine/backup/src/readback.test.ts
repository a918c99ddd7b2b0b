import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordType, encodeRecord } from '@veloz/wal/format';
import { encodeRotation } from '@veloz/wal/payloads';
import { ReadBack } from './readback.ts';
import { RecordVerifier } from './verify.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

// Records shorter and longer than the buffers, so that some span two or more reads: the reader
// still points into a buffer read earlier, which must not be overwritten under it.
const sizes = [8, 300, 17, 1000, 64, 2500, 5, 90, 700, 33];
const log = Buffer.concat([
  ...sizes.map((n, i) => encodeRecord(i + 1, 1000 + i, RecordType.OrderCancel, Buffer.alloc(n, i + 1))),
  encodeRecord(sizes.length + 1, 2000, RecordType.Rotation, encodeRotation({ sealedSegment: 1 })),
]);

async function file(bytes: Buffer): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'veloz-readback-'));
  dirs.push(d);
  const p = join(d, 'seg.wal');
  await writeFile(p, bytes);
  return p;
}

async function verify(path: string, chunk: number, from = 0): Promise<{ got: number; v: RecordVerifier }> {
  const v = new RecordVerifier('seg.wal', from, null, null, false);
  const fh = await open(path, 'r');
  try {
    const got = await new ReadBack(chunk).read(
      fh,
      from,
      (c) => v.push(c),
      () => v.pending,
    );
    v.finish();
    return { got, v };
  } finally {
    await fh.close();
  }
}

describe('ReadBack', () => {
  it.each([64, 256, 1000, 4096, 1 << 20])(
    'hands every byte to the verifier in buffers of %i bytes, records spanning reads included',
    async (chunk) => {
      const { got, v } = await verify(await file(log), chunk);
      expect(got).toBe(log.length);
      expect(v.stats).toMatchObject({
        entries: sizes.length + 1,
        lastSequence: sizes.length + 1,
        rotated: true,
      });
    },
  );

  it('starts at an offset and names the offset of a damaged record', async () => {
    const first = encodeRecord(1, 1000, RecordType.OrderCancel, Buffer.alloc(8, 1)).length;
    const { got } = await verify(await file(log), 128, first);
    expect(got).toBe(log.length - first);
    const bad = Buffer.from(log);
    const at = first + 40;
    bad[at] = bad[at]! ^ 0x10;
    await expect(verify(await file(bad), 128)).rejects.toThrow(`seg.wal: offset ${first}: checksum mismatch`);
  });
});
