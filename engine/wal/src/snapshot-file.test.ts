import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TempDirs, recordsIn } from '@veloz/testing/wal-testkit';
import { RecordType, encodeRecord, encodedCrc } from './framing.ts';
import {
  decodeCheckpointRef,
  encodeCheckpointRef,
  inlineCheckpointRecord,
  resolveCheckpointRef,
  resolvedPayload,
  writeSnapshotFile,
  type CheckpointRefPayload,
} from './snapshot-file.ts';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const ref = (over: Partial<CheckpointRefPayload> = {}): CheckpointRefPayload => ({
  file: 'checkpoint_0000000000000007.json',
  sequence: 7,
  size: 2,
  crc32c: 0,
  fields: {},
  ...over,
});

describe('checkpoint files', () => {
  it('are written whole under their final name, and resolve into the payload with the reference’s fields', async () => {
    const dir = await dirs.make();
    const steps: string[] = [];
    const w = await writeSnapshotFile(dir, 7, Buffer.from('{"version":1,"orders":[]}'), {
      onStep: (s) => void steps.push(s),
    });
    expect(steps).toEqual(['snapshot-written', 'snapshot-synced', 'snapshot-renamed']);
    expect(await readdir(dir)).toEqual(['checkpoint_0000000000000007.json']);
    const payload = encodeCheckpointRef({ ...w, sequence: 7, fields: { tail: [[8, 1, 1, 'AA==']] } });
    const resolved = JSON.parse((await resolveCheckpointRef(dir, payload)).toString()) as object;
    expect(resolved).toEqual({ version: 1, orders: [], tail: [[8, 1, 1, 'AA==']] });
    // Shipping sends it as the Checkpoint record it stands for: that record's payload and CRC.
    const inline = await inlineCheckpointRecord(dir, { seq: 9, timestamp: 5, payload });
    const [rec] = recordsIn(encodeRecord(9, 5, RecordType.Checkpoint, inline.payload));
    expect(inline.type).toBe(RecordType.Checkpoint);
    expect(rec!.payload).toEqual(inline.payload);
    expect(encodedCrc(encodeRecord(9, 5, RecordType.Checkpoint, inline.payload))).toBe(inline.crc);
  });

  it('adds members to an empty object without a stray comma, and nothing when there are none', () => {
    expect(resolvedPayload(ref({ fields: { a: 1 } }), Buffer.from('{ }')).toString()).toBe('{"a":1 }');
    expect(resolvedPayload(ref(), Buffer.from('{"b":2}')).toString()).toBe('{"b":2}');
    expect(() => resolvedPayload(ref({ fields: { a: 1 } }), Buffer.from('[]'))).toThrow(/not a JSON object/);
  });

  it('refuses a file that is missing, of another size or another CRC, naming it', async () => {
    const dir = await dirs.make();
    await expect(resolveCheckpointRef(dir, encodeCheckpointRef(ref()))).rejects.toThrow(
      /checkpoint file checkpoint_0000000000000007\.json cannot be read/,
    );
    await writeFile(join(dir, ref().file), '{}!');
    await expect(resolveCheckpointRef(dir, encodeCheckpointRef(ref()))).rejects.toThrow(
      /has 3 bytes, its record says 2/,
    );
    await writeFile(join(dir, ref().file), '{}');
    await expect(resolveCheckpointRef(dir, encodeCheckpointRef(ref()))).rejects.toThrow(/fails its CRC32C/);
  });

  it('refuses a reference that does not name a checkpoint file', () => {
    expect(() => decodeCheckpointRef(Buffer.from('{'))).toThrow(/not JSON/);
    expect(() => decodeCheckpointRef(encodeCheckpointRef(ref({ file: '../wal.json' })))).toThrow(
      /needs file \(checkpoint_<16 digits>\.json\)/,
    );
    expect(() => decodeCheckpointRef(Buffer.from('{"file":"checkpoint_0000000000000007.json"}'))).toThrow(
      /sequence, size, crc32c and fields/,
    );
  });
});
