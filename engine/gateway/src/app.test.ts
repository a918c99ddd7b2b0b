// The gateway's app in process, in front of a fake engine: what it forwards and how, what it
// answers itself, and the API key on every route but the open ones.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeUpstream } from '@veloz/testing/fake-upstream';
import { buildGatewayApp } from './app.ts';
import { ApiKeys } from './auth.ts';
import { EventHub } from './hub.ts';
import { createGatewayMetrics } from './metrics.ts';
import { gatewayDocument } from './openapi.ts';
import { UpstreamError } from './upstream.ts';

const KEY = 'test-key-0123456789';
const auth = { 'x-api-key': KEY };

function gateway(opts: { ratePerSecond?: number } = {}) {
  const upstream = new FakeUpstream();
  const app = buildGatewayApp({
    upstream,
    hub: new EventHub(100),
    keys: new ApiKeys([KEY]),
    ratePerSecond: opts.ratePerSecond ?? 1000,
    metrics: createGatewayMetrics(),
    logger: pino({ level: 'silent' }),
    heartbeatMs: 60_000,
    maxBufferedBytes: 1 << 20,
    now: () => 0,
  });
  return { app, upstream };
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});
const started = (g: ReturnType<typeof gateway>) => {
  close = () => g.app.close();
  return g;
};

const order = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', quantity: '0.010', price: '1000.00' };

describe('gateway app', () => {
  it.each([
    ['a JSON number that lost digits', '"quantity":0.0100000000000000001', 'quantity'],
    ['a JSON number', '"quantity":0.01', 'quantity'],
    ['an array for a string', '"quantity":["0.010"]', 'quantity'],
    ['a number for the clientOrderId', '"quantity":"0.010","clientOrderId":7', 'clientOrderId'],
    ['the reserved prefix in capitals', '"quantity":"0.010","clientOrderId":"VELOZ-99"', 'clientOrderId'],
  ])('refuses %s itself, naming the field, without asking the engine', async (_what, fields, field) => {
    const { app, upstream } = started(gateway());
    const res = await app.inject({
      method: 'POST',
      url: '/api/orders',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: `{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","price":"1000.00",${fields}}`,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ field });
    expect(upstream.requests.filter((r) => r.path !== '/ready')).toEqual([]);
  });

  it.each(['1e3', '0x10', '01'])('refuses the order id %s without asking the engine', async (id) => {
    const { app, upstream } = started(gateway());
    const res = await app.inject({ url: `/api/orders/${id}`, headers: auth });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ field: 'id' });
    expect(upstream.requests.filter((r) => r.path !== '/ready')).toEqual([]);
  });

  it('forwards a request with its body bytes as received and answers with the engine’s bytes', async () => {
    const { app, upstream } = started(gateway());
    const engineAnswer = '{"orderId":7,  "status":"ACCEPTED"}';
    upstream.on('POST', '/api/orders', { status: 201, body: engineAnswer });
    const raw = `{ "symbol":"BTCUSDT","side":"BUY","type":"LIMIT","quantity":"0.010","price":"1000.00" }`;
    const res = await app.inject({
      method: 'POST',
      url: '/api/orders',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: raw,
    });
    expect(res.statusCode).toBe(201);
    expect(res.body).toBe(engineAnswer);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(upstream.requests).toEqual([{ method: 'POST', path: '/api/orders', body: raw }]);
  });

  it('passes on the engine’s errors, its Retry-After and the query string', async () => {
    const { app, upstream } = started(gateway());
    upstream.on('POST', '/api/orders', {
      status: 429,
      body: { error: 'order rate limit exceeded', reason: 'RATE_LIMIT' },
      retryAfter: '2',
    });
    const limited = await app.inject({ method: 'POST', url: '/api/orders', headers: auth, payload: order });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('2');
    expect(limited.json()).toEqual({ error: 'order rate limit exceeded', reason: 'RATE_LIMIT' });
    upstream.on('GET', '/api/orders_state?status=open', {
      status: 200,
      body: { orders: [], lastSequence: 3 },
    });
    const state = await app.inject({ url: '/api/orders_state?status=open', headers: auth });
    expect(state.json()).toEqual({ orders: [], lastSequence: 3 });
  });

  it('refuses a request the engine’s schema refuses, without asking the engine', async () => {
    const { app, upstream } = started(gateway());
    const bad = await app.inject({
      method: 'POST',
      url: '/api/orders',
      headers: auth,
      payload: { ...order, side: 'SIDEWAYS' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ field: 'side' });
    const badId = await app.inject({ url: '/api/orders/abc', headers: auth });
    expect(badId.statusCode).toBe(400);
    const notJson = await app.inject({
      method: 'POST',
      url: '/api/orders',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"symbol":',
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error).toContain('not valid JSON');
    expect(upstream.requests).toEqual([]);
  });

  it("does not serve the routes of the engine's admin scope: an API key does not open them (ADR 14)", async () => {
    const { app, upstream } = started(gateway());
    for (const [method, url] of [
      ['POST', '/api/trading/halt'],
      ['POST', '/api/trading/resume'],
      ['PUT', '/api/strategies/grid-1'],
      ['DELETE', '/api/strategies/grid-1'],
      ['GET', '/api/wal/status'],
      ['POST', '/api/wal/checkpoint'],
    ] as const) {
      const res = await app.inject({ method, url, headers: auth });
      expect({ method, url, status: res.statusCode }).toEqual({ method, url, status: 404 });
    }
    expect(upstream.requests).toEqual([]);
  });

  it('answers 503 with Retry-After when the engine does not answer', async () => {
    const { app, upstream } = started(gateway());
    upstream.on('GET', '/api/positions', new UpstreamError('refused', 'connect ECONNREFUSED'));
    const res = await app.inject({ url: '/api/positions', headers: auth });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toEqual({
      error: 'engine unavailable: connect ECONNREFUSED',
      reason: 'ENGINE_UNAVAILABLE',
    });
    expect((await app.inject('/metrics')).body).toContain(
      'veloz_gateway_upstream_errors_total{kind="refused"} 1',
    );
  });

  it('needs the API key everywhere but on /health, /ready, /metrics and /openapi.json', async () => {
    const { app, upstream } = started(gateway());
    for (const url of ['/health', '/ready', '/metrics', '/openapi.json'])
      expect((await app.inject(url)).statusCode, url).toBe(200);
    for (const [method, url] of [
      ['GET', '/api/orders_state'],
      ['POST', '/api/orders'],
      ['GET', '/api/stream'],
      ['HEAD', '/api/positions'],
      ['GET', '/api/nothing-here'],
    ] as const) {
      const res = await app.inject({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
    expect(
      (await app.inject({ url: '/api/orders_state', headers: { authorization: `Bearer ${KEY}` } }))
        .statusCode,
    ).toBe(200);
    expect((await app.inject({ url: '/api/nothing-here', headers: auth })).statusCode).toBe(404);
    // Not served through the gateway: the backup job reads each engine directly.
    expect((await app.inject({ url: '/api/wal/backup', headers: auth })).statusCode).toBe(404);
    expect(upstream.requests.map((r) => r.path).filter((p) => p !== '/ready')).toEqual(['/api/orders_state']);
  });

  it('rate-limits per key with 429 and Retry-After', async () => {
    const { app } = started(gateway({ ratePerSecond: 2 }));
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await app.inject({ url: '/api/positions', headers: auth })).statusCode);
    expect(statuses).toEqual([200, 200, 429]);
    const res = await app.inject({ url: '/api/positions', headers: auth });
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toMatchObject({ reason: 'GATEWAY_RATE_LIMIT' });
  });

  it('answers health and readiness itself, from its engine', async () => {
    const { app, upstream } = started(gateway());
    expect((await app.inject('/health')).json()).toEqual({
      status: 'ok',
      role: 'gateway',
      engine: 'fake engine',
      streaming: true,
    });
    expect((await app.inject('/ready')).json()).toEqual({ ready: true, reasons: [] });
    upstream.on('GET', '/ready', {
      status: 503,
      body: { ready: false, reasons: ['no market data for BTCUSDT'] },
    });
    upstream.streaming = false;
    const notReady = await app.inject('/ready');
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json()).toEqual({
      ready: false,
      reasons: ['engine: no market data for BTCUSDT', 'engine event stream not connected'],
    });
    expect((await app.inject('/metrics')).body).toContain('veloz_gateway_engine_up 0');
  });

  it('serves its OpenAPI document', async () => {
    const { app } = started(gateway());
    const res = await app.inject('/openapi.json');
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.json()).toEqual(gatewayDocument());
  });

  it('closes open event streams when it closes', async () => {
    const g = gateway();
    await g.app.listen({ port: 0, host: '127.0.0.1' });
    const address = g.app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const res = await fetch(`http://127.0.0.1:${port}/api/stream`, { headers: auth });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    // close() would wait for the open stream if the stream plugin did not end it first.
    await g.app.close();
    const end = async () => {
      for (;;) if ((await reader.read()).done) return 'ended';
    };
    expect(await end().catch(() => 'cut')).toMatch(/ended|cut/);
  });
});
