// The gateway as a real process in front of a real engine process (and with its own stdio
// engine child): authentication, rate limiting, SSE resume and fan-out, and the engine dying
// and coming back behind it.
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@veloz/testing/engine-process';
import { startVeloz, VELOZ_BIN, type Proc } from '@veloz/testing/gateway';
import { sseClient } from '@veloz/testing/sse';

const KEY = 'k-3f9a1c0e6b2d4f8a9c7e5d3b1a0f2e4c';

/** An SSE client, with the gateway's key, that records every event. */
const sse = (url: string, headers: Record<string, string> = {}) =>
  sseClient(url, { 'x-api-key': KEY, ...headers });

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('gateway in front of a real engine', () => {
  let dir: string;
  let enginePort: number;
  let engine: Proc;
  let gateway: Proc;
  let gw: string;
  let n = 0;
  const engineEnv = () => ({
    VELOZ_WAL_DIR: dir,
    VELOZ_WAL_SYNC: 'false',
    VELOZ_ORDER_RATE_LIMIT: '1000000',
    VELOZ_RISK_MAX_OPEN_ORDERS: '1000000',
    VELOZ_SIM_TICK_MS: '0',
  });
  const startEngine = () =>
    startVeloz(
      ['engine', '--port', String(enginePort), '--host', '127.0.0.1'],
      engineEnv(),
      `http://127.0.0.1:${enginePort}/ready`,
    );

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = { 'x-api-key': KEY },
  ) => {
    const res = await fetch(`${gw}${path}`, {
      method,
      headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : null,
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      text,
      body: text.startsWith('{') ? JSON.parse(text) : text,
    };
  };
  const order = (over: Record<string, string> = {}) =>
    call('POST', '/api/orders', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '0.010',
      price: '1000.00',
      clientOrderId: `g${++n}`,
      ...over,
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'veloz-gateway-'));
    enginePort = await freePort();
    engine = await startEngine();
    const gwPort = await freePort();
    gw = `http://127.0.0.1:${gwPort}`;
    gateway = await startVeloz(
      [
        'gateway',
        '--port',
        String(gwPort),
        '--host',
        '127.0.0.1',
        '--engine-url',
        `http://127.0.0.1:${enginePort}`,
        '--rate-limit',
        '100000',
      ],
      {
        VELOZ_API_KEY: KEY,
        VELOZ_LOG_LEVEL: 'debug',
        VELOZ_GATEWAY_SSE_HEARTBEAT: '200',
        VELOZ_GATEWAY_SSE_MAX_BUFFER: '8388608',
        VELOZ_GATEWAY_UPSTREAM_TIMEOUT: '3000',
      },
      `${gw}/ready`,
    );
  });

  afterAll(async () => {
    await gateway?.stop('SIGKILL');
    await engine?.stop('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('requires the API key, except on /health, /ready and /metrics', async () => {
    for (const path of ['/health', '/ready', '/metrics'])
      expect((await call('GET', path, undefined, {})).status).toBe(200);
    const none = await call('GET', '/api/orders_state', undefined, {});
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ error: expect.stringContaining('API key') });
    expect((await call('GET', '/api/orders_state', undefined, { 'x-api-key': `${KEY}x` })).status).toBe(401);
    expect(
      (await call('GET', '/api/orders_state', undefined, { authorization: 'Bearer wrong' })).status,
    ).toBe(401);
    expect((await call('GET', '/api/stream', undefined, {})).status).toBe(401);
    // The HEAD route fastify adds for each GET gets the key check too.
    expect((await call('HEAD', '/api/orders_state', undefined, {})).status).toBe(401);
    expect((await call('HEAD', '/api/orders_state')).status).toBe(200);
    expect(
      (await call('GET', '/api/orders_state', undefined, { authorization: `Bearer ${KEY}` })).status,
    ).toBe(200);
    expect((await call('GET', '/api/orders_state')).status).toBe(200);
  });

  it('forwards answers and errors as the engine gives them', async () => {
    const created = await order();
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ clientOrderId: `g${n}`, status: 'ACCEPTED' });
    const again = await call('POST', '/api/orders', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '0.010',
      price: '1000.00',
      clientOrderId: `g${n}`,
    });
    expect(again.status).toBe(200);
    const bad = await call('POST', '/api/orders', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '0.010',
    });
    expect(bad).toMatchObject({ status: 400, body: { field: 'price' } });
    const schema = await call('POST', '/api/orders', {
      symbol: 'BTCUSDT',
      side: 'SIDEWAYS',
      type: 'LIMIT',
      quantity: '1',
    });
    expect(schema).toMatchObject({ status: 400, body: { field: 'side' } });
    const risk = await order({ quantity: '0.00001' });
    expect(risk).toMatchObject({ status: 422, body: { reason: 'MIN_NOTIONAL' } });
    expect((await call('GET', '/api/orders/999999')).status).toBe(404);
    const id = (created.body as { orderId: number }).orderId;
    expect((await call('DELETE', `/api/orders/${id}`)).body).toMatchObject({ status: 'CANCELED' });
    expect((await call('DELETE', `/api/orders/${id}`)).status).toBe(409);
    const direct = await (await fetch(`http://127.0.0.1:${enginePort}/api/orders/${id}`)).text();
    expect((await call('GET', `/api/orders/${id}`)).text).toBe(direct);
  });

  it('rate-limits per key with 429 and Retry-After', async () => {
    const port = await freePort();
    const limited = await startVeloz(
      [
        'gateway',
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--engine-url',
        `http://127.0.0.1:${enginePort}`,
        '--rate-limit',
        '10',
      ],
      { VELOZ_API_KEY: `${KEY},second-key-0000` },
      `http://127.0.0.1:${port}/health`,
    );
    try {
      const url = `http://127.0.0.1:${port}/api/positions`;
      const statuses = await Promise.all(
        Array.from({ length: 30 }, () =>
          fetch(url, { headers: { 'x-api-key': KEY } }).then(async (r) => ({
            s: r.status,
            ra: r.headers.get('retry-after'),
            b: await r.text(),
          })),
        ),
      );
      const ok = statuses.filter((x) => x.s === 200).length;
      const limitedAnswers = statuses.filter((x) => x.s === 429);
      expect(ok).toBeGreaterThanOrEqual(10);
      expect(ok).toBeLessThan(15);
      expect(limitedAnswers[0]!.ra).toBe('1');
      expect(JSON.parse(limitedAnswers[0]!.b)).toMatchObject({ reason: 'GATEWAY_RATE_LIMIT' });
      // The other key has its own bucket.
      expect((await fetch(url, { headers: { authorization: 'Bearer second-key-0000' } })).status).toBe(200);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/veloz_gateway_rate_limited_total\{key="key0"\} \d+/);
      expect(metrics).not.toContain(KEY);
    } finally {
      await limited.stop();
    }
    expect(limited.output()).not.toContain(KEY);
  });

  it('streams events with heartbeats and resumes from Last-Event-ID', async () => {
    const a = sse(`${gw}/api/stream`);
    await until('connected', () => a.status() === 200);
    await order();
    await order();
    const first = await until('events', () =>
      a.events.filter((e) => e.type === 'order').length >= 4 ? a.events : undefined,
    );
    const lastSeen = first.at(-1)!.id!;
    a.close();
    await order();
    const b = sse(`${gw}/api/stream`, { 'last-event-id': lastSeen });
    const resumed = await until('resumed events', () =>
      b.events.filter((e) => e.type === 'order').length >= 2 ? b.events : undefined,
    );
    expect(BigInt(resumed[0]!.id!)).toBe(BigInt(lastSeen) + 1n);
    expect(JSON.parse(resumed[0]!.data)).toMatchObject({ clientOrderId: `g${n}` });
    // An id from before the buffer (or from another gateway) gets a reset, not silence.
    const c = sse(`${gw}/api/stream?lastEventId=5`);
    await until('reset', () => c.events.some((e) => e.type === 'reset'));
    b.close();
    c.close();
    // Heartbeats keep idle connections alive (comments, every 200 ms in this test).
    const raw = await new Promise<string>((resolve) => {
      let text = '';
      const req = http.get(`${gw}/api/stream`, { headers: { 'x-api-key': KEY } }, (r) => {
        r.setEncoding('utf8');
        r.on('data', (d: string) => {
          text += d;
          if (text.includes(': heartbeat')) {
            req.destroy();
            resolve(text);
          }
        });
      });
    });
    expect(raw).toContain(': heartbeat');
  });

  it('answers 503 at once while the engine is down and recovers by itself', async () => {
    const stream = sse(`${gw}/api/stream`);
    await until('connected', () => stream.status() === 200);
    await engine.stop('SIGKILL');
    const down = await call('GET', '/api/orders_state');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({
      reason: 'ENGINE_UNAVAILABLE',
      error: expect.stringContaining('engine unavailable'),
    });
    expect(down.headers.get('retry-after')).toBe('1');
    const posted = await order();
    expect(posted.status).toBe(503);
    expect((await call('GET', '/ready', undefined, {})).status).toBe(503);
    expect((await call('GET', '/health', undefined, {})).status).toBe(200);
    engine = await startEngine();
    await until('gateway ready', async () =>
      (await call('GET', '/ready', undefined, {})).status === 200 ? true : undefined,
    );
    expect((await call('GET', '/api/orders_state')).status).toBe(200);
    const after = await order();
    expect(after.status).toBe(201);
    // The stream that stayed open is told that events may have been lost, then carries on.
    await until('reset then new events', () => {
      const i = stream.events.findIndex((e) => e.type === 'reset');
      return i >= 0 && stream.events.slice(i).some((e) => e.type === 'order' && e.data.includes(`"g${n}"`));
    });
    stream.close();
  });

  it('serves 100 SSE clients while one never reads, without stalling the others', async () => {
    const clients = Array.from({ length: 99 }, () => sse(`${gw}/api/stream`));
    // The slow client: a raw socket that sends its request and then never reads a byte.
    const slow = connect(Number(new URL(gw).port), '127.0.0.1');
    slow.on('error', () => undefined);
    slow.write(`GET /api/stream HTTP/1.1\r\nHost: x\r\nX-API-Key: ${KEY}\r\n\r\n`);
    slow.pause();
    await until('all connected', () => clients.every((c) => c.status() === 200));
    const orders = 600;
    const start = n;
    const batch = 50;
    for (let i = 0; i < orders; i += batch) {
      const res = await Promise.all(Array.from({ length: batch }, () => order()));
      expect(res.every((r) => r.status === 201)).toBe(true);
    }
    // Resting limit orders make two events each (NEW, ACCEPTED).
    await until(
      'every reading client got every order',
      () => clients.every((c) => c.events.filter((e) => e.type === 'order').length >= 2 * orders),
      30_000,
    );
    const want = Array.from({ length: orders }, (_, i) => `"clientOrderId":"g${start + i + 1}"`);
    for (const c of clients) {
      const text = c.events.map((e) => e.data).join('\n');
      expect(want.filter((w) => !text.includes(w))).toEqual([]);
    }
    // The slow client is still connected (the kernel buffers what it does not read) and the
    // gateway answers as usual; cutting off a client past the buffer limit is in hub.test.ts.
    expect((await call('GET', '/api/orders_state?status=open')).status).toBe(200);
    const metrics = (await call('GET', '/metrics', undefined, {})).text;
    expect(metrics).toMatch(/veloz_gateway_sse_slow_disconnects_total 0/);
    expect(Number(/veloz_sse_clients (\d+)/.exec(metrics)?.[1])).toBe(100);
    for (const c of clients) c.close();
    slow.destroy();
  }, 60_000);

  it('never logs the API key', () => {
    expect(gateway.output()).not.toContain(KEY);
  });
});

describe('gateway with its own stdio engine', () => {
  it('runs the engine as a child and restarts it when it dies', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veloz-gateway-stdio-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const g = await startVeloz(
      ['gateway', '--port', String(port), '--host', '127.0.0.1', '--engine-stdio', '--wal-dir', dir],
      { VELOZ_API_KEY: KEY, VELOZ_WAL_SYNC: 'false' },
      `${url}/ready`,
    );
    try {
      const post = () =>
        fetch(`${url}/api/orders`, {
          method: 'POST',
          headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
          body: JSON.stringify({
            symbol: 'BTCUSDT',
            side: 'BUY',
            type: 'LIMIT',
            quantity: '0.010',
            price: '1000.00',
          }),
        });
      expect((await post()).status).toBe(201);
      const health = (await (await fetch(`${url}/health`)).json()) as { engine: string };
      const pid = Number(/pid (\d+)/.exec(health.engine)?.[1]);
      expect(pid).toBeGreaterThan(0);
      process.kill(pid, 'SIGKILL');
      await until('child restarted', async () => {
        const h = (await (await fetch(`${url}/health`)).json()) as { engine: string };
        const p = Number(/pid (\d+)/.exec(h.engine)?.[1]);
        return p > 0 && p !== pid && (await fetch(`${url}/ready`)).status === 200 ? true : undefined;
      });
      expect((await post()).status).toBe(201);
      const state = (await (
        await fetch(`${url}/api/orders_state`, { headers: { 'x-api-key': KEY } })
      ).json()) as { orders: unknown[] };
      // The restarted child recovered the first order from the WAL.
      expect(state.orders).toHaveLength(2);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/veloz_gateway_engine_restarts_total 1/);
    } finally {
      expect(await g.stop('SIGTERM')).toBe(0);
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('veloz gateway command line', () => {
  const run = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [VELOZ_BIN, 'gateway', ...args], {
      env: { ...process.env, VELOZ_API_KEY: '', ...env },
      encoding: 'utf8',
    });
    return { code: r.status, err: r.stderr, out: r.stdout };
  };

  it.each([
    [
      ['--rate-limit', 'x', '--engine-url', 'http://127.0.0.1:1'],
      { VELOZ_API_KEY: 'k' },
      /--rate-limit "x" is invalid/,
    ],
    [['--engine-url', 'ftp://x'], { VELOZ_API_KEY: 'k' }, /--engine-url "ftp:\/\/x" is invalid/],
    [['--engine-url', 'http://127.0.0.1:1'], {}, /VELOZ_API_KEY \(or VELOZ_API_KEY_FILE\) is required/],
    [[], { VELOZ_API_KEY: 'k' }, /one of --engine-url URL .* and --engine-stdio is required/],
    [['--engine-stdio', '--engine-url', 'http://x'], { VELOZ_API_KEY: 'k' }, /cannot be combined/],
    [
      ['--engine-stdio'],
      { VELOZ_API_KEY: 'k', VELOZ_GATEWAY_SSE_MAX_BUFFER: '1' },
      /VELOZ_GATEWAY_SSE_MAX_BUFFER="1" is invalid/,
    ],
    [['--bogus'], {}, /Unknown option '--bogus'/],
  ])('exits 2 for %j', (args, env, message) => {
    const r = run(args, env);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('has --help', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('--engine-url URL');
  });
});
