// A grid strategy on the simulated market, in a real engine process, with a maxLoss it is bound
// to reach: the engine halts it there, cancels its orders, and after a SIGKILL and a restart on
// the same WAL it is still halted. Only a newer version with resumeAfter lifts the halt.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Strategy } from '@veloz/api/http/contract';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';

const NAME = 'grid-loss';
const grid = (version: number, extra: Record<string, unknown> = {}) => ({
  type: 'grid',
  symbol: 'BTCUSDT',
  version,
  // A narrow grid of large orders: the random walk leaves it within seconds, filling one side
  // whole, and the first move further away loses more than the limit.
  params: { levels: 3, spacing: '5.00', quantity: '0.01000' },
  guardrails: { maxLoss: '2.00' },
  ...extra,
});

async function put(e: EngineProcess, body: unknown): Promise<Strategy> {
  const res = await fetch(`${e.url}/api/strategies/${NAME}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as Strategy;
  expect(res.status, JSON.stringify(answer)).toBeLessThan(300);
  return answer;
}

async function get(e: EngineProcess): Promise<Strategy> {
  const res = await fetch(`${e.url}/api/strategies/${NAME}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Strategy;
}

async function until(e: EngineProcess, ok: (s: Strategy) => boolean, what: string): Promise<Strategy> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const s = await get(e);
    if (ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`${what}: not after 120 s; last ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function openOrdersOf(e: EngineProcess): Promise<Array<{ strategy: string; status: string }>> {
  const res = await fetch(`${e.url}/api/orders_state`);
  const body = (await res.json()) as { orders: Array<{ strategy: string; status: string }> };
  return body.orders.filter(
    (o) => o.strategy === NAME && !['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED'].includes(o.status),
  );
}

describe('strategy guardrails in a real engine', () => {
  const dirs: string[] = [];
  const procs: EngineProcess[] = [];
  afterAll(async () => {
    for (const p of procs) await p.kill();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('halts a losing grid at its maxLoss, cancels its orders and stays halted across a SIGKILL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veloz-guardrail-'));
    dirs.push(dir);
    const env = {
      VELOZ_WAL_DIR: dir,
      VELOZ_SIM_TICK_MS: '5',
      VELOZ_SIM_SEED: '7',
      VELOZ_ORDER_RATE_LIMIT: '1000000',
      VELOZ_RISK_MAX_OPEN_ORDERS: '1000000',
    };
    let e = await startEngineProcess(env);
    procs.push(e);
    await put(e, grid(1));
    const halted = await until(e, (s) => s.state === 'halted', 'halted by maxLoss');
    expect(halted.halt).toMatchObject({ guardrail: 'maxLoss', limit: '2.00', version: 1 });
    // The value that crossed is a loss of at least the limit, in the quote currency.
    expect(Number(halted.halt!.value)).toBeLessThanOrEqual(-2);
    expect(halted.openOrders).toBe(0);
    expect(await openOrdersOf(e)).toEqual([]);
    const placed = halted.ordersPlaced;
    expect(placed).toBeGreaterThan(0);

    await e.kill('SIGKILL');
    e = await startEngineProcess(env);
    procs.push(e);
    const after = await get(e);
    expect(after.state).toBe('halted');
    expect(after.halt).toEqual(halted.halt);
    expect(after.openOrders).toBe(0);
    // Hundreds of market steps later, the grid has placed nothing more.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await get(e)).ordersPlaced).toBe(placed);
    expect(await openOrdersOf(e)).toEqual([]);

    // The operator pushing the same version again, or a newer one without resumeAfter: still halted.
    expect((await put(e, grid(1))).state).toBe('halted');
    expect(
      (await put(e, grid(2, { params: { levels: 2, spacing: '5.00', quantity: '0.01000' } }))).state,
    ).toBe('halted');
    // A resume time before the halt does not lift it either.
    expect((await put(e, grid(3, { resumeAfter: halted.halt!.at - 1 }))).state).toBe('halted');
    // A newer version naming a resume time after the halt does (with a limit it is not past).
    const resumed = await put(e, grid(4, { resumeAfter: Date.now(), guardrails: { maxLoss: '1000000' } }));
    expect(resumed.state).toBe('running');
    expect(resumed.halt).toBeNull();
    await e.kill('SIGKILL');
    e = await startEngineProcess(env);
    procs.push(e);
    expect((await get(e)).state).toBe('running');
  });
});
