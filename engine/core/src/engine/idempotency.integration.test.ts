// Idempotency and order history as a client sees them, against a real engine process: a retry
// with the same clientOrderId after the order left VELOZ_ORDER_HISTORY, after the WAL records
// that placed it were rotated away and after a SIGKILL, returns that order and places none.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';
import { startVeloz, type Proc } from '@veloz/testing/gateway';

interface OrderAnswer {
  orderId: number;
  clientOrderId: string;
  status: string;
}

const dirs: string[] = [];
const engines: EngineProcess[] = [];
const procs: Proc[] = [];

afterEach(async () => {
  for (const e of engines.splice(0)) await e.kill();
  for (const p of procs.splice(0)) await p.stop('SIGKILL');
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function start(env: Record<string, string>): Promise<EngineProcess> {
  const e = await startEngineProcess(env);
  engines.push(e);
  return e;
}

async function call(
  e: EngineProcess,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${e.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const resting = (clientOrderId?: string) => ({
  symbol: 'BTCUSDT',
  side: 'BUY',
  type: 'LIMIT',
  quantity: '0.001',
  price: '40000.00',
  ...(clientOrderId ? { clientOrderId } : {}),
});

/** Places a resting order and cancels it, so that it is a finished order in the history. */
async function placeAndCancel(e: EngineProcess, clientOrderId?: string): Promise<OrderAnswer> {
  const placed = await call(e, 'POST', '/api/orders', resting(clientOrderId));
  expect(placed.status, JSON.stringify(placed.body)).toBe(201);
  const o = placed.body as unknown as OrderAnswer;
  expect((await call(e, 'DELETE', `/api/orders/${o.orderId}`)).status).toBe(200);
  return o;
}

/** Every order of /api/orders_state, page by page. */
async function allOrders(e: EngineProcess, limit: number): Promise<OrderAnswer[]> {
  const out: OrderAnswer[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 1000; pages++) {
    const q: string = cursor === null ? `limit=${limit}` : `limit=${limit}&cursor=${cursor}`;
    const page = await call(e, 'GET', `/api/orders_state?${q}`);
    expect(page.status).toBe(200);
    const orders = page.body.orders as OrderAnswer[];
    expect(orders.length).toBeLessThanOrEqual(limit);
    out.push(...orders);
    cursor = page.body.next as string | null;
    if (cursor === null) return out;
  }
  throw new Error('orders_state never ended');
}

async function walEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), 'veloz-idem-'));
  dirs.push(dir);
  return {
    VELOZ_WAL_DIR: dir,
    VELOZ_SIM_TICK_MS: '0',
    VELOZ_ORDER_HISTORY: '1',
    VELOZ_ORDER_RATE_LIMIT: '100000',
    // Small segments, one sealed segment kept: the records that placed the first order are
    // deleted by retention, so only checkpoints can carry it.
    VELOZ_WAL_MAX_SIZE: '4096',
    VELOZ_WAL_MAX_FILES: '1',
    VELOZ_WAL_CHECKPOINT_INTERVAL: '10',
    ...extra,
  };
}

/** Orders placed by the rotation test, the first one included. */
const ORDERS = 151;

describe('idempotency by clientOrderId (VELOZ_IDEMPOTENCY_WINDOW)', () => {
  it('a retry after the order left VELOZ_ORDER_HISTORY, WAL rotation and a SIGKILL returns the same order', async () => {
    const env = await walEnv();
    let e = await start(env);
    const first = await placeAndCancel(e, 'keep-1');
    // Enough records for several rotations of 4 KiB segments: checkpoints live in their own files
    // (ADR 19), so only order records fill the segments.
    for (let i = 0; i < ORDERS - 1; i++) await placeAndCancel(e);

    const before = await call(e, 'POST', '/api/orders', resting('keep-1'));
    expect(before.status).toBe(200);
    expect(before.body.orderId).toBe(first.orderId);

    await e.kill('SIGKILL');
    const sealed = (await readdir(env.VELOZ_WAL_DIR!)).filter((f) => /^orders_\d{16}\.wal$/.test(f));
    // Rotation and retention deleted the early segments (sealed ones are numbered from 1): the
    // first order now lives only in checkpoints.
    expect(sealed.length).toBeGreaterThan(0);
    expect(sealed.every((f) => Number(f.slice(7, 23)) > 1)).toBe(true);
    e = await start(env);

    const retry = await call(e, 'POST', '/api/orders', resting('keep-1'));
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ orderId: first.orderId, clientOrderId: 'keep-1', status: 'CANCELED' });

    // Readable by orderId, by clientOrderId, and in every page of orders_state, exactly once.
    expect((await call(e, 'GET', `/api/orders/${first.orderId}`)).body).toMatchObject({
      clientOrderId: 'keep-1',
    });
    expect((await call(e, 'GET', '/api/orders/client/keep-1')).body).toMatchObject({
      orderId: first.orderId,
    });
    const all = await allOrders(e, 7);
    expect(all).toHaveLength(ORDERS);
    expect(new Set(all.map((o) => o.orderId)).size).toBe(ORDERS);
    expect(all.filter((o) => o.clientOrderId === 'keep-1').map((o) => o.orderId)).toEqual([first.orderId]);
    expect((await call(e, 'GET', '/api/orders/client/never-used')).status).toBe(404);
  });

  it('a retry after the window is a 409 naming the window, before and after a restart, and places nothing', async () => {
    const env = await walEnv({ VELOZ_IDEMPOTENCY_WINDOW: '1' });
    let e = await start(env);
    const first = await placeAndCancel(e, 'late-1');
    await new Promise((r) => setTimeout(r, 1_100));
    const late = await call(e, 'POST', '/api/orders', resting('late-1'));
    expect(late.status).toBe(409);
    expect(late.body.error).toMatch(/VELOZ_IDEMPOTENCY_WINDOW/);
    expect(late.body.error).toContain(`order ${first.orderId}`);

    // Pushed out of the history: the engine keeps only that the id was used.
    for (let i = 0; i < 3; i++) await placeAndCancel(e);
    await e.kill('SIGKILL');
    e = await start(env);
    const again = await call(e, 'POST', '/api/orders', resting('late-1'));
    expect(again.status).toBe(409);
    const all = await allOrders(e, 100);
    expect(all.filter((o) => o.clientOrderId === 'late-1')).toEqual([]);
    // The three later orders are inside their own window, so kept past VELOZ_ORDER_HISTORY.
    expect(all.map((o) => o.orderId).sort((a, b) => a - b)).toEqual([1, 2, 3].map((i) => first.orderId + i));
  });

  it('through the gateway: a client retrying across an engine SIGKILL gets its order once', async () => {
    const env = await walEnv();
    const KEY = 'idem-test-key-0123456789';
    const [enginePort, gatewayPort] = [await freePort(), await freePort()];
    const engineUrl = `http://127.0.0.1:${enginePort}`;
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const startEngine = async () => {
      const p = await startVeloz(
        ['engine', '--port', String(enginePort), '--host', '127.0.0.1'],
        env,
        `${engineUrl}/ready`,
      );
      procs.push(p);
      return p;
    };
    let engine = await startEngine();
    const gateway = await startVeloz(
      ['gateway', '--port', String(gatewayPort), '--host', '127.0.0.1', '--engine-url', engineUrl],
      { VELOZ_API_KEY: KEY },
      `${gatewayUrl}/ready`,
    );
    procs.push(gateway);
    const client = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${gatewayUrl}${path}`, {
        method,
        headers: { 'x-api-key': KEY, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const placed = await client('POST', '/api/orders', resting('gw-1'));
    expect(placed.status).toBe(201);
    expect((await client('DELETE', `/api/orders/${String(placed.body.orderId)}`)).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const o = await client('POST', '/api/orders', resting());
      expect((await client('DELETE', `/api/orders/${String(o.body.orderId)}`)).status).toBe(200);
    }
    await engine.stop('SIGKILL');
    engine = await startEngine();
    let retry = await client('POST', '/api/orders', resting('gw-1'));
    // The gateway may still be reconnecting: a 503 is what the docs say to retry.
    for (let i = 0; retry.status === 503 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 100));
      retry = await client('POST', '/api/orders', resting('gw-1'));
    }
    expect(retry.status).toBe(200);
    expect(retry.body.orderId).toBe(placed.body.orderId);
    const page = await client('GET', '/api/orders_state?limit=100');
    expect((page.body.orders as OrderAnswer[]).filter((o) => o.clientOrderId === 'gw-1')).toHaveLength(1);
    expect(page.body.next).toBeNull();
  });
});
