// The engine as users run it: a real process, over HTTP and over stdio.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { startEngineProcess, VELOZ_BIN, type EngineProcess } from '@veloz/testing/engine-process';

const dirs: string[] = [];
const procs: EngineProcess[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) await p.kill('SIGKILL');
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'veloz-proc-'));
  dirs.push(d);
  return d;
}

const order = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', quantity: '0.010', price: '40000.00' };

describe('veloz engine (process)', () => {
  it('exits 0 on SIGTERM with the WAL synced and verifiable', async () => {
    const dir = await tmp();
    const eng = await startEngineProcess({ VELOZ_WAL_DIR: dir });
    procs.push(eng);
    const res = await fetch(`${eng.url}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(order),
    });
    expect(res.status).toBe(201);
    expect(await eng.kill('SIGTERM')).toBe(0);
    const v = spawnSync(process.execPath, [VELOZ_BIN, 'wal', 'verify', dir], { encoding: 'utf8' });
    expect(v.status).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({
      healthy: true,
      lastSequence: 2,
      corruptRecords: 0,
      tornTailBytes: 0,
    });
  });

  it('refuses bad configuration with a message naming the variable', () => {
    const r = spawnSync(process.execPath, [VELOZ_BIN, 'engine', '--port', '0'], {
      env: { ...process.env, VELOZ_WAL_MAX_FILES: '0', VELOZ_EXECUTION_MODE: 'live' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('VELOZ_WAL_MAX_FILES="0" is invalid: expected an integer from 1 to 100000');
    expect(r.stderr).toContain(
      'VELOZ_EXECUTION_MODE="live" is invalid: expected one of sim_engine, binance_testnet_spot, binance_spot',
    );
  });

  it.each([
    [['engine', '--bogus'], "Unknown option '--bogus'"],
    [['engine', '--stdio', '--port', '1'], '--port and --stdio cannot be combined'],
    [['nope'], 'unknown command "nope"'],
    [['wal', 'verify', '/does/not/exist'], 'is not a directory'],
  ])('rejects CLI misuse %j', (args, message) => {
    const r = spawnSync(process.execPath, [VELOZ_BIN, ...args], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('streams events over SSE and resumes from Last-Event-ID', async () => {
    const eng = await startEngineProcess({ VELOZ_WAL_DIR: await tmp() });
    procs.push(eng);
    const ctrl = new AbortController();
    const stream = await fetch(`${eng.url}/api/stream`, { signal: ctrl.signal });
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    const reader = stream.body!.getReader();
    await fetch(`${eng.url}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(order),
    });
    let text = '';
    while (!/event: order\ndata: .*"status":"ACCEPTED"/.test(text)) {
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
    }
    ctrl.abort();
    const firstId = Number(/id: (\d+)\nevent: order/.exec(text)![1]);
    await fetch(`${eng.url}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...order, clientOrderId: 'second' }),
    });
    const ctrl2 = new AbortController();
    const resumed = await fetch(`${eng.url}/api/stream`, {
      headers: { 'last-event-id': String(firstId) },
      signal: ctrl2.signal,
    });
    const r2 = resumed.body!.getReader();
    let text2 = '';
    while (!text2.includes('"clientOrderId":"second"')) {
      const { value } = await r2.read();
      text2 += new TextDecoder().decode(value);
    }
    ctrl2.abort();
    expect(text2).not.toContain(`id: ${firstId}\n`);
  });

  it('speaks JSON lines over stdio, answers bad lines with errors, and keeps logs off stdout', async () => {
    const child = spawn(process.execPath, [VELOZ_BIN, 'engine', '--stdio'], {
      env: { ...process.env, VELOZ_WAL_DIR: await tmp(), VELOZ_LOG_LEVEL: 'info', VELOZ_SIM_TICK_MS: '0' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines: unknown[] = [];
    const rl = createInterface({ input: child.stdout });
    const waitFor = (pred: (l: Record<string, unknown>) => boolean) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const check = (l: Record<string, unknown>) => pred(l) && resolve(l);
        for (const l of lines) check(l as Record<string, unknown>);
        rl.on('line', (raw) => check(JSON.parse(raw) as Record<string, unknown>));
      });
    rl.on('line', (raw) => lines.push(JSON.parse(raw)));
    child.stdin.write('this is not json\n');
    child.stdin.write('{"id":"x","method":"FETCH","path":"/health"}\n');
    child.stdin.write(`${JSON.stringify({ id: 1, method: 'POST', path: '/api/orders', body: order })}\n`);
    child.stdin.write(
      `${JSON.stringify({ id: 2, method: 'POST', path: '/api/orders', body: { ...order, quantity: 'x' } })}\n`,
    );
    const created = await waitFor((l) => l['id'] === 1);
    expect(created).toMatchObject({ status: 201, body: { orderId: 1, status: 'ACCEPTED' } });
    expect(await waitFor((l) => l['id'] === 2)).toMatchObject({ status: 400, body: { field: 'quantity' } });
    expect(await waitFor((l) => l['line'] === 1)).toMatchObject({
      error: expect.stringContaining('invalid JSON'),
    });
    expect(await waitFor((l) => l['id'] === 'x')).toMatchObject({ error: expect.stringContaining('method') });
    expect(await waitFor((l) => l['event'] === 'order')).toMatchObject({ data: { orderId: 1 } });
    child.stdin.end();
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(stderr).toContain('"msg":"WAL recovered"');
    for (const l of lines) expect(l).toBeTypeOf('object');
  });
});
