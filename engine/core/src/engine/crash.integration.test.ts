// kill -9 under concurrent order load, 20 times: every order acknowledged over HTTP must come
// back after restart with (at least) its last acknowledged state.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEngineProcess } from '@veloz/testing/engine-process';

interface Ack {
  orderId: number;
  status: string;
  filledQuantity: string;
  lastSequence: number;
}

const TERMINAL = new Set(['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED']);
const ROUNDS = 20;

describe('engine crash safety', () => {
  it(`keeps every acknowledged order across ${ROUNDS} SIGKILLs under load`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veloz-crash-'));
    const env = {
      VELOZ_WAL_DIR: dir,
      VELOZ_ORDER_RATE_LIMIT: '1000000',
      VELOZ_RISK_MAX_OPEN_ORDERS: '1000000',
      VELOZ_ORDER_HISTORY: '10000000',
      VELOZ_SIM_TICK_MS: '5',
      // Small segments and frequent checkpoints so kills land in rotations and checkpoints too.
      VELOZ_WAL_MAX_SIZE: '65536',
      VELOZ_WAL_MAX_FILES: '1000',
      VELOZ_WAL_CHECKPOINT_INTERVAL: '100',
    };
    const acked = new Map<string, Ack>();
    let seq = 0;
    let killedWithInflight = 0;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const eng = await startEngineProcess(env);
        let stop = false;
        let inflight = 0;
        const worker = async (w: number) => {
          while (!stop) {
            const clientOrderId = `r${round}w${w}n${seq++}`;
            const roll = Math.random();
            const body =
              roll < 0.3
                ? {
                    symbol: 'BTCUSDT',
                    side: roll < 0.15 ? 'BUY' : 'SELL',
                    type: 'MARKET',
                    quantity: '0.001',
                    clientOrderId,
                  }
                : {
                    symbol: 'BTCUSDT',
                    side: roll < 0.65 ? 'BUY' : 'SELL',
                    type: 'LIMIT',
                    quantity: '0.002',
                    price: roll < 0.65 ? '49990.00' : '50010.00',
                    clientOrderId,
                  };
            inflight++;
            try {
              const res = await fetch(`${eng.url}/api/orders`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify(body),
              });
              if (res.status === 201) {
                const o = (await res.json()) as Ack;
                acked.set(clientOrderId, o);
                if (!TERMINAL.has(o.status) && Math.random() < 0.3) {
                  const c = await fetch(`${eng.url}/api/orders/${o.orderId}`, { method: 'DELETE' });
                  if (c.status === 200) acked.set(clientOrderId, (await c.json()) as Ack);
                }
              }
            } catch {
              // The kill cut the request: it was never acknowledged.
            } finally {
              inflight--;
            }
          }
        };
        const workers = Array.from({ length: 16 }, (_, w) => worker(w));
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 400));
        if (inflight > 0) killedWithInflight++;
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
        expect(acked.size).toBeGreaterThan(ROUNDS * 10);
        const missing: string[] = [];
        for (const [cid, ack] of acked) {
          const got = byClient.get(cid);
          if (!got) {
            missing.push(cid);
            continue;
          }
          expect(got.orderId).toBe(ack.orderId);
          expect(got.lastSequence).toBeGreaterThanOrEqual(ack.lastSequence);
          expect(Number(got.filledQuantity)).toBeGreaterThanOrEqual(Number(ack.filledQuantity));
          if (TERMINAL.has(ack.status)) expect(got.status).toBe(ack.status);
        }
        expect(missing).toEqual([]);
        expect(killedWithInflight).toBeGreaterThan(ROUNDS / 2);
        const verify = (await (await fetch(`${eng.url}/api/wal/status`)).json()) as { healthy: boolean };
        expect(verify.healthy).toBe(true);
      } finally {
        await eng.kill('SIGTERM');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
