// Halt and resume as on-call runs them (runbooks/on-call.md: `curl -XPOST .../api/trading/halt`),
// against a real engine process: with or without a body, and a halt that outlives SIGKILLs and
// the rotation of the WAL segment that recorded it.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';

const dirs: string[] = [];
const engines: EngineProcess[] = [];

afterEach(async () => {
  for (const e of engines.splice(0)) await e.kill();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function start(env: Record<string, string>): Promise<EngineProcess> {
  const e = await startEngineProcess(env);
  engines.push(e);
  return e;
}

/** A POST as curl sends it: `-XPOST` alone has no body and no content-type. */
async function post(e: EngineProcess, path: string, body?: string, contentType?: string) {
  const res = await fetch(`${e.url}${path}`, {
    method: 'POST',
    ...(body === undefined ? {} : { body }),
    ...(contentType ? { headers: { 'content-type': contentType } } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const order = (clientOrderId: string) =>
  JSON.stringify({
    symbol: 'BTCUSDT',
    side: 'BUY',
    type: 'LIMIT',
    quantity: '0.001',
    price: '40000.00',
    clientOrderId,
  });

async function place(e: EngineProcess, clientOrderId: string) {
  return post(e, '/api/orders', order(clientOrderId), 'application/json');
}

describe('halt and resume', () => {
  it('halts without a body, holds the halt across SIGKILLs and WAL rotation, resumes with a body', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veloz-halt-'));
    dirs.push(dir);
    const env = {
      VELOZ_WAL_DIR: dir,
      VELOZ_SIM_TICK_MS: '0',
      VELOZ_ORDER_RATE_LIMIT: '100000',
      VELOZ_WAL_MAX_SIZE: '4096',
      VELOZ_WAL_MAX_FILES: '1',
      VELOZ_WAL_CHECKPOINT_INTERVAL: '10',
    };
    let e = await start(env);
    expect((await place(e, 'before')).status).toBe(201);

    const halted = await post(e, '/api/trading/halt');
    expect(halted).toEqual({ status: 200, body: { halted: true, reason: 'halted through the API' } });
    expect((await place(e, 'while-halted')).body).toMatchObject({ reason: 'TRADING_HALTED' });

    await e.kill('SIGKILL');
    e = await start(env);
    const refused = await place(e, 'after-restart');
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ reason: 'TRADING_HALTED' });

    // Enough halt records (a refused order writes none) to rotate the segment with the first
    // halt away: the checkpoints carry it.
    for (let i = 0; i < 150; i++)
      expect(
        (await post(e, '/api/trading/halt', '{"reason":"incident 42"}', 'application/json')).status,
      ).toBe(200);
    const firstSegments = await readdir(dir);
    await e.kill('SIGKILL');
    // The segment that held the first halt record is gone (sealed segments are numbered from 1).
    expect(firstSegments).not.toContain('orders_0000000000000001.wal');
    expect(firstSegments.some((f) => /^orders_\d{16}\.wal$/.test(f))).toBe(true);
    e = await start(env);
    expect((await place(e, 'after-rotation')).body).toMatchObject({
      reason: 'TRADING_HALTED',
      error: expect.stringContaining('incident 42'),
    });

    // An empty JSON body is no body; a reason may be given.
    expect((await post(e, '/api/trading/resume', '', 'application/json')).status).toBe(200);
    expect((await post(e, '/api/trading/halt', '', 'application/json')).status).toBe(200);
    const resumed = await post(e, '/api/trading/resume', '{"reason":"fixed"}', 'application/json');
    expect(resumed).toEqual({ status: 200, body: { halted: false, reason: '' } });
    expect((await place(e, 'resumed')).status).toBe(201);

    await e.kill('SIGKILL');
    e = await start(env);
    expect((await place(e, 'resumed-after-restart')).status).toBe(201);
  });

  it('VELOZ_TRADING_HALTED=true starts halted even when the WAL last resumed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veloz-halt-'));
    dirs.push(dir);
    const env = { VELOZ_WAL_DIR: dir, VELOZ_SIM_TICK_MS: '0' };
    let e = await start(env);
    expect((await post(e, '/api/trading/resume')).status).toBe(200);
    await e.kill('SIGKILL');
    e = await start({ ...env, VELOZ_TRADING_HALTED: 'true' });
    expect((await place(e, 'x')).body).toMatchObject({ reason: 'TRADING_HALTED' });
  });
});
