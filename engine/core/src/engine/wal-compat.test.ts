// A WAL written by the previous version (inline checkpoints, no tails; the committed fixture)
// still replays to the state its writer had, and the current writer goes on from it with
// checkpoints built off the order path.
import { cp, readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordType } from '@veloz/wal/format';
import { Harness, TempDirs, normalizedSnapshot, recoverState } from '@veloz/testing/wal-testkit';
import { backgroundCheckpoints } from './background-checkpoint.ts';

const FIXTURE = new URL('./fixtures/wal-before-adr-0019/', import.meta.url);
const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

async function fixtureCopy(): Promise<string> {
  const dir = await dirs.make('veloz-wal-compat-');
  await cp(new URL('wal/', FIXTURE), dir, { recursive: true });
  return dir;
}

describe('a WAL written before ADR 0019', () => {
  it('replays to the state of the process that wrote it', async () => {
    const expected = JSON.parse(await readFile(new URL('state.json', FIXTURE), 'utf8')) as {
      lastSequence: number;
      state: unknown;
    };
    const dir = await fixtureCopy();
    const { state, recovered } = await recoverState(dir);
    expect(recovered.report.problems).toEqual([]);
    expect(recovered.lastSequence).toBe(expected.lastSequence);
    expect(normalizedSnapshot(state)).toEqual(expected.state);
  });

  it('takes new records and background checkpoints on top, and replays all of it', async () => {
    const dir = await fixtureCopy();
    const { h } = await Harness.open({
      dir,
      maxSegmentBytes: 8 * 1024,
      maxFiles: 2,
      sync: false,
      checkpointInterval: 5,
    });
    h.wal.setBackgroundCheckpoint(backgroundCheckpoints(h.state, h.wal, { sliceOrders: 2 }));
    for (let i = 0; i < 200; i++) {
      const orderId = h.state.nextOrderId;
      h.commit({
        type: RecordType.OrderNew,
        data: {
          orderId,
          clientOrderId: `after-${orderId}`,
          symbol: 'BTCUSDT',
          side: 'BUY',
          type: 'LIMIT',
          timeInForce: 'GTC',
          price: 100,
          quantity: 5,
          strategy: '',
        },
      });
      if (i % 3 === 0) h.commit({ type: RecordType.OrderCancel, data: { orderId, reason: 'user' } });
      if (i % 10 === 0) {
        await h.wal.flush();
        for (let k = 0; k < 20; k++) await new Promise((r) => setImmediate(r));
      }
    }
    await h.wal.flush();
    const live = normalizedSnapshot(h.state);
    await h.wal.close();
    const { state, recovered } = await recoverState(dir);
    expect(recovered.report.problems).toEqual([]);
    expect(normalizedSnapshot(state)).toEqual(live);
  });
});
