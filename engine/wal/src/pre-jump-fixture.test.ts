// A WAL written before SequenceJump records existed (committed bytes, made by the writer of that
// time: 12 orders, checkpoints every 5 records, one rotation). It must read exactly as before,
// and a truncate_at_corruption start that loses its end must declare a jump on top of it.
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordType } from './framing.ts';
import { verifyWal } from './recovery.ts';
import { CURRENT_SEGMENT } from './segments.ts';
import { TempDirs, recordsIn, recoverState } from '@veloz/testing/wal-testkit';

const FIXTURE = fileURLToPath(new URL('./fixtures/pre-jump', import.meta.url));
const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

async function copy(): Promise<string> {
  const dir = await dirs.make();
  await cp(FIXTURE, dir, { recursive: true });
  return dir;
}

const orders = (keys: Iterable<string>) => [...keys].filter((k) => k.startsWith('old-')).length;

describe('a WAL from before declared jumps', () => {
  it('verifies and replays as it did', async () => {
    const dir = await copy();
    const report = await verifyWal(dir);
    expect(report.problems).toEqual([]);
    expect(report.jumps).toEqual([]);
    expect(report.lastSequence).toBe(16);
    const { state, recovered } = await recoverState(dir, 'strict');
    expect(orders(state.byClientId.keys())).toBe(12);
    expect(recovered.jump).toBeNull();
    expect((await recoverState(dir, 'truncate_at_corruption')).recovered.jump).toBeNull();
  });

  it('gets a jump over the end it lost, in truncate_at_corruption', async () => {
    const dir = await copy();
    const path = join(dir, CURRENT_SEGMENT);
    const buf = await readFile(path);
    const cut = recordsIn(buf).at(-3)!;
    expect(cut.type).toBe(RecordType.OrderNew);
    await writeFile(path, buf.subarray(0, cut.offset));
    const { recovered } = await recoverState(dir, 'truncate_at_corruption');
    expect(recovered.jump).toEqual({ previous: cut.seq - 1, seq: 17, lost: 17 - cut.seq });
    const report = await verifyWal(dir);
    expect(report.problems).toEqual([]);
    expect((await recoverState(dir, 'strict')).recovered.lastSequence).toBe(17);
  });
});
