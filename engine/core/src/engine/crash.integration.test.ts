// kill -9 under concurrent order load, 20 times: every order acknowledged over HTTP must come
// back after restart with (at least) its last acknowledged state. Then the same through the
// gateway, with clients that retry every unanswered order with its clientOrderId: none lost, none
// placed twice.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, startEngineProcess } from '@veloz/testing/engine-process';
import { startVeloz, type Proc } from '@veloz/testing/gateway';
import { AckedOrders, killUnderLoad, TERMINAL, type OrderBody } from '@veloz/testing/kill-under-load';

const ROUNDS = 20;
const ENV = {
  VELOZ_ORDER_RATE_LIMIT: '1000000',
  VELOZ_RISK_MAX_OPEN_ORDERS: '1000000',
  VELOZ_ORDER_HISTORY: '10000000',
  VELOZ_SIM_TICK_MS: '5',
  // Small segments and frequent checkpoints so kills land in rotations and checkpoints too.
  VELOZ_WAL_MAX_SIZE: '65536',
  VELOZ_WAL_MAX_FILES: '1000',
  VELOZ_WAL_CHECKPOINT_INTERVAL: '100',
};

describe('engine crash safety', () => {
  it(`keeps every acknowledged order across ${ROUNDS} SIGKILLs under load`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veloz-crash-'));
    const env = { ...ENV, VELOZ_WAL_DIR: dir };
    const orders = new AckedOrders();
    let seq = 0;
    let killedWithInflight = 0;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        let inflight = 0;
        await killUnderLoad(
          env,
          async (url, w) => {
            const clientOrderId = `r${round}w${w}n${seq++}`;
            const roll = Math.random();
            const body: OrderBody =
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
              const o = await orders.place(url, body);
              if (o && !TERMINAL.has(o.status) && Math.random() < 0.3)
                await orders.cancel(url, clientOrderId, o.orderId);
            } finally {
              inflight--;
            }
          },
          async () => {
            await new Promise((r) => setTimeout(r, 100 + Math.random() * 400));
            if (inflight > 0) killedWithInflight++;
          },
        );
      }
      const eng = await startEngineProcess(env);
      try {
        expect(orders.acked.size).toBeGreaterThan(ROUNDS * 10);
        const { missing, behind } = await orders.lostAt(eng.url);
        expect(behind).toEqual([]);
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

describe('crash safety through the gateway, with client retries', () => {
  it(`loses no acknowledged order and places none twice across ${ROUNDS} engine SIGKILLs`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veloz-crash-gw-'));
    const KEY = 'k-crash-0123456789abcdef0123456789abcdef';
    const enginePort = await freePort();
    const gwPort = await freePort();
    const engineUrl = `http://127.0.0.1:${enginePort}`;
    const gw = `http://127.0.0.1:${gwPort}`;
    const startEngine = () =>
      startVeloz(
        ['engine', '--port', String(enginePort), '--host', '127.0.0.1'],
        { ...ENV, VELOZ_WAL_DIR: dir },
        `${engineUrl}/ready`,
      );
    const startGateway = () =>
      startVeloz(
        [
          'gateway',
          '--port',
          String(gwPort),
          '--host',
          '127.0.0.1',
          '--engine-url',
          engineUrl,
          '--rate-limit',
          '1000000',
        ],
        { VELOZ_API_KEY: KEY, VELOZ_GATEWAY_UPSTREAM_TIMEOUT: '3000' },
        `${gw}/ready`,
      );
    let engine: Proc = await startEngine();
    let gateway: Proc = await startGateway();
    /** clientOrderId -> orderId, from 200/201 answers. */
    const acked = new Map<string, number>();
    let duplicates = 0;
    let retried = 0;
    let stop = false;
    const place = async (clientOrderId: string, body: Record<string, string>): Promise<void> => {
      let delay = 20;
      for (let attempt = 0; ; attempt++) {
        if (attempt === 1) retried++;
        try {
          const res = await fetch(`${gw}/api/orders`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-api-key': KEY },
            body: JSON.stringify({ ...body, clientOrderId }),
            signal: AbortSignal.timeout(10_000),
          });
          const answer = (await res.json()) as { orderId?: number; error?: string };
          if (res.status === 200 || res.status === 201) {
            const before = acked.get(clientOrderId);
            if (before !== undefined && before !== answer.orderId) duplicates++;
            acked.set(clientOrderId, answer.orderId!);
            return;
          }
          // Anything but "unavailable, try again" is a definitive answer the test did not expect.
          if (res.status !== 503 && res.status !== 502 && res.status !== 504)
            throw new Error(`${clientOrderId}: ${res.status} ${JSON.stringify(answer)}`);
        } catch (err) {
          if (err instanceof Error && err.message.startsWith(`${clientOrderId}:`)) throw err;
          // The kill cut the request or the gateway is restarting: the outcome is unknown.
        }
        if (attempt > 400) throw new Error(`${clientOrderId}: no answer after ${attempt} attempts`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(500, delay * 2);
      }
    };
    let seq = 0;
    let failure: unknown;
    const worker = async (w: number) => {
      while (!stop && failure === undefined) {
        const roll = Math.random();
        const body: Record<string, string> =
          roll < 0.3
            ? { symbol: 'BTCUSDT', side: roll < 0.15 ? 'BUY' : 'SELL', type: 'MARKET', quantity: '0.001' }
            : {
                symbol: 'BTCUSDT',
                side: roll < 0.65 ? 'BUY' : 'SELL',
                type: 'LIMIT',
                quantity: '0.002',
                price: roll < 0.65 ? '49990.00' : '50010.00',
              };
        await place(`gw${w}n${seq++}`, body).catch((err: unknown) => (failure ??= err));
      }
    };
    try {
      const workers = Array.from({ length: 16 }, (_, w) => worker(w));
      for (let round = 0; round < ROUNDS && failure === undefined; round++) {
        await new Promise((r) => setTimeout(r, 150 + Math.random() * 350));
        await engine.stop('SIGKILL');
        // Every fifth round the gateway dies too: clients see resets instead of 503s.
        if (round % 5 === 4) await gateway.stop('SIGKILL');
        engine = await startEngine();
        if (round % 5 === 4) gateway = await startGateway();
      }
      await new Promise((r) => setTimeout(r, 300));
      stop = true;
      await Promise.all(workers);
      if (failure !== undefined)
        throw failure instanceof Error ? failure : new Error(JSON.stringify(failure));

      // A clean restart, then every order the engine holds, read one id at a time (whatever the
      // paging of /api/orders_state): the acknowledged ones, and any placed twice.
      await engine.stop('SIGKILL');
      engine = await startEngine();
      const held = new Map<string, number[]>();
      const maxAcked = Math.max(...acked.values());
      let misses = 0;
      for (let id = 1; id <= maxAcked || misses < 50; id++) {
        const res = await fetch(`${engineUrl}/api/orders/${id}`);
        if (res.status === 404) {
          misses++;
          await res.arrayBuffer();
          continue;
        }
        misses = 0;
        const o = (await res.json()) as { orderId: number; clientOrderId: string };
        held.set(o.clientOrderId, [...(held.get(o.clientOrderId) ?? []), o.orderId]);
      }
      for (const ids of held.values()) if (ids.length > 1) duplicates += ids.length - 1;
      const lost = [...acked].filter(([cid, id]) => !held.get(cid)?.includes(id)).map(([cid]) => cid);
      const figures = { rounds: ROUNDS, acked: acked.size, retried, lost: lost.length, duplicates };
      console.log(`crash test through the gateway: ${JSON.stringify(figures)}`);
      expect(lost).toEqual([]);
      expect(duplicates).toBe(0);
      expect(acked.size).toBeGreaterThan(ROUNDS * 10);
      expect(retried).toBeGreaterThan(ROUNDS / 2);
      const status = (await (await fetch(`${engineUrl}/api/wal/status`)).json()) as { healthy: boolean };
      expect(status.healthy).toBe(true);
    } finally {
      stop = true;
      await gateway.stop('SIGKILL');
      await engine.stop('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
