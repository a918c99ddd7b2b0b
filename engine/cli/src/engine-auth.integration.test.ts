// Engine credentials between real processes (ADR 14): an engine with token files, a gateway and
// `veloz backup` presenting theirs, a token rotated under running processes without a failed
// request, and a standalone engine without tokens serving loopback clients only.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { veloz } from '@veloz/testing/backup';
import { freePort, startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';
import { startVeloz, type Proc } from '@veloz/testing/gateway';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'veloz-auth-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function engineWithTokens(dir: string): Promise<EngineProcess> {
  await writeFile(join(dir, 'trading'), 't-1\n');
  await writeFile(join(dir, 'admin'), 'a-1\n');
  await writeFile(join(dir, 'backup'), 'b-1\n');
  const e = await startEngineProcess({
    VELOZ_WAL_DIR: join(dir, 'wal'),
    VELOZ_LOG_LEVEL: 'info',
    VELOZ_ENGINE_TOKEN_TRADING_FILE: join(dir, 'trading'),
    VELOZ_ENGINE_TOKEN_ADMIN_FILE: join(dir, 'admin'),
    VELOZ_ENGINE_TOKEN_BACKUP_FILE: join(dir, 'backup'),
  });
  cleanup.push(() => e.kill('SIGKILL'));
  return e;
}

const status = async (url: string, token?: string, init: RequestInit = {}) => {
  const res = await fetch(url, {
    ...init,
    headers: { ...(token ? { 'x-veloz-engine-token': token } : {}), ...(init.headers ?? {}) },
  });
  await res.arrayBuffer();
  return res.status;
};

const order = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', quantity: '0.010', price: '40000.00' };

describe('engine credentials between processes', () => {
  it('answers 401 without a token and 403 with the wrong scope, and says at start that tokens are on', async () => {
    const dir = await tempDir();
    const e = await engineWithTokens(dir);
    expect(await status(`${e.url}/api/orders_state`)).toBe(401);
    expect(await status(`${e.url}/api/orders_state`, 'wrong')).toBe(401);
    expect(await status(`${e.url}/api/orders_state`, 't-1')).toBe(200);
    expect(await status(`${e.url}/api/orders_state`, 'a-1')).toBe(200);
    expect(await status(`${e.url}/api/wal/status`, 't-1')).toBe(403);
    expect(await status(`${e.url}/api/trading/halt`, 't-1', { method: 'POST' })).toBe(403);
    expect(await status(`${e.url}/api/wal/status`, 'a-1')).toBe(200);
    expect(await status(`${e.url}/api/wal/backup`, 'a-1')).toBe(403);
    expect(await status(`${e.url}/api/wal/backup`, 'b-1')).toBe(200);
    for (const open of ['/health', '/ready', '/metrics', '/openapi.json'])
      expect(await status(`${e.url}${open}`)).toBe(200);
    expect(e.output()).toContain('engine tokens configured');
  });

  it('a gateway and veloz backup present their tokens; a rotation under running processes fails no request', async () => {
    const dir = await tempDir();
    const e = await engineWithTokens(dir);
    const port = await freePort();
    const gw: Proc = await startVeloz(
      ['gateway', '--port', String(port), '--host', '127.0.0.1', '--engine-url', e.url],
      { VELOZ_API_KEY: 'key', VELOZ_ENGINE_TOKEN_TRADING_FILE: join(dir, 'trading') },
      `http://127.0.0.1:${port}/ready`,
    );
    cleanup.push(() => gw.stop('SIGKILL'));
    const gateway = `http://127.0.0.1:${port}`;
    const place = async (i: number) => {
      const res = await fetch(`${gateway}/api/orders`, {
        method: 'POST',
        headers: { authorization: 'Bearer key', 'content-type': 'application/json' },
        body: JSON.stringify({ ...order, clientOrderId: `rot-${i}` }),
      });
      await res.arrayBuffer();
      return res.status;
    };
    expect(await place(0)).toBe(201);

    // The rotation of docs/security.md: add the new token second, move it first, drop the old one.
    // Files are read again every 2 s; orders keep flowing through the gateway meanwhile.
    const statuses: number[] = [];
    let stop = false;
    const read = async () => {
      const res = await fetch(`${gateway}/api/orders_state`, { headers: { authorization: 'Bearer key' } });
      await res.arrayBuffer();
      return res.status;
    };
    const flow = (async () => {
      while (!stop) {
        statuses.push(await read());
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const wait = () => new Promise((r) => setTimeout(r, 2_500));
    await writeFile(join(dir, 'trading'), 't-1\nt-2\n');
    await wait();
    expect(await status(`${e.url}/api/orders_state`, 't-2')).toBe(200);
    await writeFile(join(dir, 'trading'), 't-2\nt-1\n');
    await wait();
    await writeFile(join(dir, 'trading'), 't-2\n');
    await wait();
    stop = true;
    await flow;
    expect(await status(`${e.url}/api/orders_state`, 't-1')).toBe(401);
    expect(await status(`${e.url}/api/orders_state`, 't-2')).toBe(200);
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(await place(1)).toBe(201);

    const dest = join(dir, 'backups');
    // The standalone engine's identity (deployment veloz, pair 0): backup refuses another one.
    const common = ['backup', '--engine-url', e.url, '--deployment', 'veloz', '--pair', '0', '--dest', dest];
    const refused = await veloz(common);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('answered 401');
    const done = await veloz(common, { VELOZ_ENGINE_TOKEN_BACKUP_FILE: join(dir, 'backup') });
    expect(done.stdout).toContain('"result":"complete"');
    expect(done.code).toBe(0);
  });

  it('without tokens serves loopback clients only and says so at start', async (ctx) => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    // Loopback-only can be shown only from a non-loopback address; a machine without one has nothing to show.
    if (!external) ctx.skip();
    const dir = await tempDir();
    const e = await startEngineProcess({ VELOZ_WAL_DIR: join(dir, 'wal') }, 20_000, '0.0.0.0');
    cleanup.push(() => e.kill('SIGKILL'));
    const port = new URL(e.url).port;
    expect(await status(`${e.url}/api/orders_state`)).toBe(200);
    expect(await status(`http://${external}:${port}/api/orders_state`)).toBe(401);
    expect(await status(`http://${external}:${port}/ready`)).toBe(200);
    expect(e.output()).toContain('only loopback clients are served');
  });
});
