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

interface Ack {
  orderId: number;
  status: string;
  lastSequence: number;
}

const ROUNDS = 8;
const RESTING = 3000;

const resting = (clientOrderId: string, i: number) => ({
  symbol: 'BTCUSDT',
  side: i % 2 ? 'BUY' : 'SELL',
  type: 'LIMIT',
  quantity: '0.010',
  // Far from the market: they rest, and every checkpoint holds them.
  price: i % 2 ? '1000.00' : '900000.00',
  clientOrderId,
});

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
    const acked = new Map<string, Ack>();
    let n = 0;
    const place = async (url: string, cid: string): Promise<number> => {
      const res = await fetch(`${url}/api/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(resting(cid, n++)),
      });
      if (res.status === 201) acked.set(cid, (await res.json()) as Ack);
      else await res.text();
      return res.status;
    };
    try {
      const first = await startEngineProcess(env);
      for (let w = 0; w < RESTING / 50; w++) {
        const statuses = await Promise.all(
          Array.from({ length: 50 }, (_, i) => place(first.url, `fill-${w}-${i}`)),
        );
        expect(statuses.filter((s) => s !== 201)).toEqual([]);
      }
      await first.kill('SIGTERM');
      for (let round = 0; round < ROUNDS; round++) {
        const eng = await startEngineProcess(env);
        let stop = false;
        const worker = async (w: number) => {
          while (!stop) {
            const cid = `r${round}w${w}n${n}`;
            try {
              await place(eng.url, cid);
              const ack = acked.get(cid);
              if (ack && Math.random() < 0.2) {
                const c = await fetch(`${eng.url}/api/orders/${ack.orderId}`, { method: 'DELETE' });
                if (c.status === 200) acked.set(cid, (await c.json()) as Ack);
              }
            } catch {
              // The kill cut the request: it was never acknowledged.
            }
          }
        };
        const workers = Array.from({ length: 16 }, (_, w) => worker(w));
        await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
        await eng.kill('SIGKILL');
        stop = true;
        await Promise.all(workers);
      }
      const eng = await startEngineProcess(env);
      try {
        const state = (await (await fetch(`${eng.url}/api/orders_state`)).json()) as {
          orders: Array<Ack & { clientOrderId: string }>;
        };
        const byClient = new Map(state.orders.map((o) => [o.clientOrderId, o]));
        const missing: string[] = [];
        for (const [cid, ack] of acked) {
          const got = byClient.get(cid);
          if (!got) {
            missing.push(cid);
            continue;
          }
          expect(got.orderId).toBe(ack.orderId);
          expect(got.lastSequence).toBeGreaterThanOrEqual(ack.lastSequence);
          if (ack.status === 'CANCELED') expect(got.status).toBe('CANCELED');
        }
        expect(missing).toEqual([]);
        expect(acked.size).toBeGreaterThan(RESTING + ROUNDS * 10);
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
