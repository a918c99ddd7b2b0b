// The WAL observer against a real engine process: what it reads is what the engine made durable,
// and the last checkpoint survives the engine being killed and restarted on the same WAL.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { httpJson, type EngineAccess } from './engine-access.ts';
import { WalObserver } from './wal-observer.ts';

let engine: EngineProcess | undefined;
let dir = '';
const start = async () => {
  engine = await startEngineProcess({ VELOZ_WAL_DIR: dir, VELOZ_SIM_TICK_MS: '0' });
};
const access: EngineAccess = {
  call: (_ns, _pod, method, path, body, signal) =>
    engine
      ? httpJson(`${engine.url}${path}`, method, body, 10_000, signal)
      : Promise.reject(new Error('down')),
};

afterAll(async () => {
  await engine?.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('WalObserver with a real engine', () => {
  it('reports the durable sequence and the last checkpoint, also after a SIGKILL and restart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'veloz-wal-observer-'));
    await start();
    const woken: string[] = [];
    const w = new WalObserver({
      engines: access,
      log: pino({ level: 'silent' }),
      onChange: (ns, d) => woken.push(`${ns}/${d}`),
    });
    w.track('ns', 'desk', new Map([[0, 'desk-engine-0']]));
    const order = await httpJson<{ lastSequence: number }>(`${engine!.url}/api/orders`, 'POST', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '0.010',
      price: '40000.00',
    });
    expect(order.status).toBe(201);
    const cp = await httpJson<{ sequence: number }>(`${engine!.url}/api/wal/checkpoint`, 'POST');
    await w.askAll();
    const seen = w.get('ns', 'desk').get(0);
    expect(seen?.walEntries).toBe(cp.body.sequence);
    expect(seen?.walEntries).toBeGreaterThanOrEqual(order.body.lastSequence);
    expect(Date.parse(seen?.lastCheckpoint ?? '')).not.toBeNaN();
    expect(woken).toEqual(['ns/desk']);

    await engine!.kill('SIGKILL');
    engine = undefined;
    await w.askAll();
    // Unreachable: the last answer stays.
    expect(w.get('ns', 'desk').get(0)).toEqual(seen);
    await start();
    // The failed engine is asked again after its backoff; a new observer asks at once.
    const fresh = new WalObserver({
      engines: access,
      log: pino({ level: 'silent' }),
      onChange: () => undefined,
    });
    fresh.track('ns', 'desk', new Map([[0, 'desk-engine-0']]));
    await fresh.askAll();
    const after = fresh.get('ns', 'desk').get(0);
    expect(after?.lastCheckpoint).toBe(seen?.lastCheckpoint);
    expect(after?.walEntries).toBeGreaterThanOrEqual(cp.body.sequence);
  }, 60_000);
});
