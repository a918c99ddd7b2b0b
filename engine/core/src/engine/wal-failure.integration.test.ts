// A full disk under a real engine process with resting orders: the engine goes out of service
// (503, /ready false with the reason, an ERROR line naming the file and errno, metrics), never
// crashes -- the market keeps ticking through the resting orders -- and comes back by itself once
// the disk has room again, with every acknowledged order intact after a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';
import { mountSmallDisk, smallDiskUnavailable, type SmallDisk } from '@veloz/testing/small-disk';

const skip = smallDiskUnavailable();

interface OrderAnswer {
  orderId: number;
  clientOrderId: string;
  status: string;
  avgPrice: string;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const metric = (text: string, name: string): number | undefined => {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

describe.skipIf(skip !== null)(`WAL write failure on a full disk${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let disk: SmallDisk;
  let eng: EngineProcess | undefined;
  const env = (dir: string) => ({
    VELOZ_WAL_DIR: dir,
    VELOZ_SIM_TICK_MS: '5',
    VELOZ_ORDER_RATE_LIMIT: '1000000',
    VELOZ_RISK_MAX_OPEN_ORDERS: '100000',
    VELOZ_LOG_LEVEL: 'info',
  });

  beforeAll(async () => {
    disk = await mountSmallDisk(4 * 1024 * 1024);
  });
  afterAll(async () => {
    await eng?.kill('SIGKILL');
    await disk?.unmount();
  });

  it('answers 503, says why, never crashes, and recovers by itself when the disk has room', async () => {
    eng = await startEngineProcess(env(disk.dir));
    const url = eng.url;
    let n = 0;
    const post = async (body: Record<string, string>) => {
      const res = await fetch(`${url}/api/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ symbol: 'BTCUSDT', clientOrderId: `disk-${++n}`, ...body }),
      });
      return {
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        body: (await res.json()) as OrderAnswer & { error?: string },
      };
    };
    const acked = new Map<string, number>();
    const mkt = await post({ side: 'BUY', type: 'MARKET', quantity: '0.001' });
    expect(mkt.status).toBe(201);
    acked.set(mkt.body.clientOrderId, mkt.body.orderId);
    const mid = Math.round(Number(mkt.body.avgPrice));
    // Resting orders on both sides close to the market: its random walk fills some of them while
    // the disk is full, which is what used to kill the process from the market timer.
    for (let k = 1; k <= 40; k++) {
      for (const [side, price] of [
        ['BUY', mid - 25 * k],
        ['SELL', mid + 25 * k],
      ] as const) {
        const r = await post({ side, type: 'LIMIT', quantity: '0.001', price: `${price}.00` });
        expect(r.status).toBe(201);
        acked.set(r.body.clientOrderId, r.body.orderId);
      }
    }

    await disk.fill();
    const refused = await until('a 503', async () => {
      const r = await post({ side: 'BUY', type: 'LIMIT', quantity: '0.001', price: `${mid - 1000}.00` });
      if (r.status === 201) acked.set(r.body.clientOrderId, r.body.orderId);
      return r.status === 503 ? r : undefined;
    });
    expect(refused.body.error).toMatch(/ENOSPC/);
    expect(refused.retryAfter).toBe('1');
    // The market keeps ticking for a while with resting orders in its way.
    await new Promise((r) => setTimeout(r, 3000));
    const alive = await fetch(`${url}/health`).then(
      (r) => r.status,
      () => 0,
    );
    expect(alive, eng.output()).toBe(200);
    expect(eng.child.exitCode).toBeNull();

    const ready = await fetch(`${url}/ready`);
    expect(ready.status).toBe(503);
    const readyBody = (await ready.json()) as { ready: boolean; reasons: string[] };
    expect(readyBody.ready).toBe(false);
    expect(readyBody.reasons.join('\n')).toMatch(/ENOSPC/);
    expect((await post({ side: 'BUY', type: 'MARKET', quantity: '0.001' })).status).toBe(503);
    const walDown = (await (await fetch(`${url}/api/wal/status`)).json()) as {
      healthy: boolean;
      error: string;
    };
    expect(walDown.healthy).toBe(false);
    expect(walDown.error).toMatch(/ENOSPC.*orders_current\.wal/);

    const errorLine = eng
      .output()
      .split('\n')
      .find((l) => l.includes('"level":50') && l.includes('ENOSPC'));
    expect(errorLine, eng.output()).toBeDefined();
    expect(errorLine).toContain(`${disk.dir}/orders_current.wal`);
    // What the VelozWALWriteFailure runbook greps for.
    expect(errorLine).toContain('WAL write failed');
    expect(errorLine).toContain('"errno":"ENOSPC"');
    const down = await (await fetch(`${url}/metrics`)).text();
    expect(metric(down, 'veloz_wal_write_failures_total')).toBeGreaterThanOrEqual(1);
    expect(metric(down, 'veloz_wal_unavailable')).toBe(1);
    expect(metric(down, 'veloz_wal_up')).toBe(0);
    expect(metric(down, 'veloz_ready')).toBe(0);

    await disk.free();
    const freed = performance.now();
    await until('ready again', async () => ((await fetch(`${url}/ready`)).status === 200 ? true : undefined));
    const back = /"unavailableSeconds":([\d.]+),"attempts":(\d+)/.exec(eng.output());
    console.log(
      `full disk: ${JSON.stringify({
        unavailableSeconds: Number(back?.[1]),
        failedAttempts: Number(back?.[2]),
        readyAfterFreeMs: Math.round(performance.now() - freed),
      })}`,
    );
    const after = await post({ side: 'BUY', type: 'LIMIT', quantity: '0.001', price: `${mid - 1000}.00` });
    expect(after.status).toBe(201);
    acked.set(after.body.clientOrderId, after.body.orderId);
    const up = await (await fetch(`${url}/metrics`)).text();
    expect(metric(up, 'veloz_wal_unavailable')).toBe(0);
    expect(metric(up, 'veloz_wal_up')).toBe(1);
    expect(eng.output()).toMatch(/WAL writable again/);

    // Every acknowledged order survives a crash after the outage.
    await eng.kill('SIGKILL');
    eng = await startEngineProcess(env(disk.dir));
    const state = (await (await fetch(`${eng.url}/api/orders_state`)).json()) as { orders: OrderAnswer[] };
    const byClient = new Map(state.orders.map((o) => [o.clientOrderId, o.orderId]));
    const lost = [...acked].filter(([cid, id]) => byClient.get(cid) !== id);
    expect(lost).toEqual([]);
    const status = (await (await fetch(`${eng.url}/api/wal/status`)).json()) as { healthy: boolean };
    expect(status.healthy).toBe(true);
  });
});
