// kill -9 while checkpoints of thousands of resting orders are being built off the order path
// (ADR 0019): each kill lands before, during or after a build, between its checkpoint record's
// write and its fsync, or in a rotation. Every acknowledged order comes back, and the log shows
// that orders were appended while checkpoints were built (their records travel as a tail).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecordType } from '@veloz/wal/format';
import { verifyWal } from '@veloz/wal/recovery';
import { decodeCheckpointRef } from '@veloz/wal/snapshot-file';
import { startEngineProcess } from '@veloz/testing/engine-process';
import { AckedOrders, killUnderLoad, restingOrder } from '@veloz/testing/kill-under-load';

const ROUNDS = 8;
const RESTING = 3000;

describe('checkpoints built off the order path', () => {
  it(`keep every acknowledged order across ${ROUNDS} SIGKILLs while they are built`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veloz-ckpt-crash-'));
    const env = {
      VELOZ_WAL_DIR: dir,
      VELOZ_ORDER_RATE_LIMIT: '1000000',
      VELOZ_RISK_MAX_OPEN_ORDERS: '1000000',
      VELOZ_ORDER_HISTORY: '10000000',
      VELOZ_WAL_MAX_SIZE: String(4 * 1024 * 1024),
      VELOZ_WAL_MAX_FILES: '1000',
      VELOZ_WAL_CHECKPOINT_INTERVAL: '50',
    };
    const orders = new AckedOrders();
    let n = 0;
    try {
      const first = await startEngineProcess(env);
      await orders.placeAll(first.url, RESTING, (i) => restingOrder(`fill-${i}`, n++));
      await first.kill('SIGTERM');
      for (let round = 0; round < ROUNDS; round++) {
        await killUnderLoad(
          env,
          async (url, w) => {
            const cid = `r${round}w${w}n${n}`;
            const ack = await orders.place(url, restingOrder(cid, n++));
            if (ack && Math.random() < 0.2) await orders.cancel(url, cid, ack.orderId);
          },
          () => new Promise((r) => setTimeout(r, 300 + Math.random() * 700)),
        );
      }
      const eng = await startEngineProcess(env);
      try {
        const { missing, behind } = await orders.lostAt(eng.url);
        expect(behind).toEqual([]);
        expect(missing).toEqual([]);
        expect(orders.acked.size).toBeGreaterThan(RESTING + ROUNDS * 10);
      } finally {
        await eng.kill('SIGTERM');
      }
      let withTail = 0;
      const report = await verifyWal(dir, (_seg, r) => {
        // Built in the background: a CheckpointRef naming its file, with the records of the build as its tail.
        if (r.type === RecordType.CheckpointRef && 'tail' in decodeCheckpointRef(r.payload).fields)
          withTail++;
      });
      expect(report.problems).toEqual([]);
      expect(withTail).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
