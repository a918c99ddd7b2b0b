import { afterEach, describe, expect, it } from 'vitest';
import { startFixture, type Fixture } from '@veloz/testing/engine-fixture';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

async function post(f: Fixture, body: unknown) {
  const res = await f.app.inject({ method: 'POST', url: '/api/orders', payload: body as object });
  return { status: res.statusCode, body: res.json(), headers: res.headers };
}

const limit = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', quantity: '0.010', price: '40000.00' };

describe('POST /api/orders', () => {
  it('accepts a limit order once it is durable and returns it with decimal strings', async () => {
    fx = await startFixture();
    const r = await post(fx, { ...limit, clientOrderId: 'a-1' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      orderId: 1,
      clientOrderId: 'a-1',
      status: 'ACCEPTED',
      quantity: '0.01000',
      price: '40000.00',
      filledQuantity: '0.00000',
    });
    expect(fx.engine.walStatus().durableSequence).toBeGreaterThanOrEqual(r.body.lastSequence);
  });

  it('returns the existing order for a repeated clientOrderId', async () => {
    fx = await startFixture();
    const a = await post(fx, { ...limit, clientOrderId: 'same' });
    const b = await post(fx, { ...limit, clientOrderId: 'same', quantity: '5' });
    expect(b.status).toBe(200);
    expect(b.body.orderId).toBe(a.body.orderId);
    const state = (await fx.app.inject('/api/orders_state')).json();
    expect(state.orders).toHaveLength(1);
  });

  it('fills a market order against the simulated book', async () => {
    fx = await startFixture();
    const r = await post(fx, { symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: '0.001' });
    expect(r.status).toBe(201);
    expect(r.body.status).toBe('FILLED');
    const pos = (await fx.app.inject('/api/positions')).json();
    expect(pos.positions[0]).toMatchObject({ symbol: 'BTCUSDT', quantity: '-0.00100' });
  });

  it.each([
    [{ ...limit, quantity: undefined }, 'quantity'],
    [{ ...limit, side: 'HOLD' }, 'side'],
    [{ ...limit, quantity: '1e3' }, 'quantity'],
    [{ ...limit, quantity: '0.0000001' }, 'quantity'],
    [{ ...limit, quantity: '0' }, 'quantity'],
    [{ ...limit, price: undefined }, 'price'],
    [{ ...limit, price: '40000.001' }, 'price'],
    [{ ...limit, symbol: 'DOGEUSDT' }, 'symbol'],
    [{ ...limit, symbol: 'btc' }, 'symbol'],
    [{ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '1', price: '1.00' }, 'price'],
    [{ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '1', timeInForce: 'GTC' }, 'timeInForce'],
    [{ ...limit, clientOrderId: 'has space' }, 'clientOrderId'],
    [{ ...limit, clientOrderId: 'veloz-7' }, 'clientOrderId'],
    [{ ...limit, clientOrderId: 'VELOZ-99' }, 'clientOrderId'],
    [{ ...limit, clientOrderId: 'Veloz-1' }, 'clientOrderId'],
    [{ ...limit, clientOrderId: 7 }, 'clientOrderId'],
    [{ ...limit, quantity: ['0.010'] }, 'quantity'],
    [{ ...limit, quantity: 0.01 }, 'quantity'],
    [{ ...limit, price: { value: '40000.00' } }, 'price'],
    [{ ...limit, side: ['BUY'] }, 'side'],
    [{ ...limit, extra: 1 }, 'extra'],
  ])('rejects bad input %j naming the field %s', async (body, field) => {
    fx ??= await startFixture();
    const r = await post(fx, body);
    expect(r.status).toBe(400);
    expect(r.body.field).toBe(field);
    expect(r.body.error).toEqual(expect.any(String));
    expect(fx.engine.state.orders.size).toBe(0);
  });

  it('refuses a JSON number that lost digits in parsing (0.0100000000000000001 is not 0.01)', async () => {
    fx = await startFixture();
    const res = await fx.app.inject({
      method: 'POST',
      url: '/api/orders',
      headers: { 'content-type': 'application/json' },
      payload:
        '{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","quantity":0.0100000000000000001,"price":"40000.00"}',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ field: 'quantity' });
  });

  it.each(['1e3', '0x10', '01', '1.0', '-1', '9999999999999999'])(
    'reads order id %s as no order id (400), never as a number',
    async (id) => {
      fx ??= await startFixture();
      await post(fx, limit);
      for (const method of ['GET', 'DELETE'] as const) {
        const res = await fx.app.inject({ method, url: `/api/orders/${id}` });
        expect(res.statusCode).toBe(400);
        expect(res.json()).toMatchObject({ field: 'id' });
      }
    },
  );

  it.each([
    [{ VELOZ_RISK_MAX_ORDER_QUANTITY: '0.005' }, limit, 'MAX_ORDER_QUANTITY'],
    [{ VELOZ_RISK_MAX_ORDER_NOTIONAL: '100' }, limit, 'MAX_ORDER_NOTIONAL'],
    [{ VELOZ_RISK_MAX_POSITION: '0.005' }, limit, 'MAX_POSITION'],
    [{ VELOZ_TRADING_HALTED: 'true' }, limit, 'TRADING_HALTED'],
    [{}, { ...limit, quantity: '0.00001', price: '1.00' }, 'MIN_NOTIONAL'],
  ])('risk rejects with 422 and a typed reason (%j)', async (env, body, reason) => {
    const f = await startFixture(env);
    try {
      const r = await post(f, body);
      expect(r.status).toBe(422);
      expect(r.body.reason).toBe(reason);
      const metrics = (await f.app.inject('/metrics')).body;
      expect(metrics).toContain(`veloz_order_rejections_total{reason="${reason}"} 1`);
    } finally {
      await f.close();
    }
  });

  it('rejects with 429 and Retry-After beyond the order rate limit', async () => {
    fx = await startFixture({ VELOZ_ORDER_RATE_LIMIT: '2' });
    expect((await post(fx, limit)).status).toBe(201);
    expect((await post(fx, limit)).status).toBe(201);
    const r = await post(fx, limit);
    expect(r.status).toBe(429);
    expect(r.body.reason).toBe('RATE_LIMIT');
    expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('enforces max open orders', async () => {
    fx = await startFixture({ VELOZ_RISK_MAX_OPEN_ORDERS: '1' });
    expect((await post(fx, limit)).status).toBe(201);
    const r = await post(fx, limit);
    expect(r.body.reason).toBe('MAX_OPEN_ORDERS');
  });
});

describe('orders', () => {
  it('cancels an open order, then answers 409 for a second cancel and 404 for an unknown order', async () => {
    fx = await startFixture();
    const { body } = await post(fx, limit);
    const c = await fx.app.inject({ method: 'DELETE', url: `/api/orders/${body.orderId}` });
    expect(c.statusCode).toBe(200);
    expect(c.json().status).toBe('CANCELED');
    expect((await fx.app.inject({ method: 'DELETE', url: `/api/orders/${body.orderId}` })).statusCode).toBe(
      409,
    );
    expect((await fx.app.inject({ method: 'DELETE', url: '/api/orders/999' })).statusCode).toBe(404);
    expect((await fx.app.inject('/api/orders/999')).statusCode).toBe(404);
    expect((await fx.app.inject('/api/orders/abc')).statusCode).toBe(400);
    expect((await fx.app.inject(`/api/orders/${body.orderId}`)).json().status).toBe('CANCELED');
  });

  it('fills a resting order when the market trades through it, and survives a restart', async () => {
    fx = await startFixture();
    const q = fx.engine.quote('BTCUSDT')!;
    const { body } = await post(fx, { ...limit, price: ((q.bids[0]!.price - 2000) / 100).toFixed(2) });
    expect(body.status).toBe('ACCEPTED');
    let status = body.status;
    for (let i = 0; i < 5000 && status !== 'FILLED'; i++) {
      fx.engine.stepMarket('BTCUSDT');
      status = fx.engine.state.orders.get(body.orderId)!.status;
    }
    expect(status).toBe('FILLED');
    const before = (await fx.app.inject('/api/orders_state')).json();
    const positionsBefore = (await fx.app.inject('/api/positions')).json();
    fx = await fx.restart();
    expect((await fx.app.inject('/api/orders_state')).json()).toEqual(before);
    const positionsAfter = (await fx.app.inject('/api/positions')).json();
    expect(positionsAfter.positions.map((p: { quantity: string }) => p.quantity)).toEqual(
      positionsBefore.positions.map((p: { quantity: string }) => p.quantity),
    );
  });
});

describe('service routes', () => {
  it('serves health, readiness, metrics with the seed names, and WAL admin routes', async () => {
    fx = await startFixture();
    expect((await fx.app.inject('/health')).statusCode).toBe(200);
    expect((await fx.app.inject('/ready')).json()).toEqual({ ready: true, reasons: [] });
    await post(fx, limit);
    const metrics = (await fx.app.inject('/metrics')).body;
    for (const name of [
      'veloz_wal_entries_written_total',
      'veloz_wal_bytes_written_total',
      'veloz_wal_rotations_total',
      'veloz_wal_corrupted_entries',
      'veloz_wal_fsync_duration_seconds_bucket',
      'veloz_order_latency_seconds_bucket',
      'veloz_orders{status="ACCEPTED"} 1',
      'veloz_wal_replay_duration_seconds',
    ]) {
      expect(metrics).toContain(name);
    }
    const cp = await fx.app.inject({ method: 'POST', url: '/api/wal/checkpoint' });
    expect(cp.statusCode).toBe(200);
    const status = (await fx.app.inject('/api/wal/status')).json();
    expect(status.durableSequence).toBe(cp.json().sequence);
    expect(status.lastCheckpoint.sequence).toBe(cp.json().sequence);
    expect(Date.parse(status.lastCheckpoint.time)).not.toBeNaN();
    // A restarted engine knows it from the WAL.
    fx = await fx.restart();
    expect((await fx.app.inject('/api/wal/status')).json().lastCheckpoint).toEqual(status.lastCheckpoint);
  });

  it('refuses a second checkpoint within VELOZ_WAL_CHECKPOINT_MIN_INTERVAL with 429 and Retry-After', async () => {
    fx = await startFixture({ VELOZ_WAL_CHECKPOINT_MIN_INTERVAL: '60' });
    const first = await fx.app.inject({ method: 'POST', url: '/api/wal/checkpoint' });
    expect(first.statusCode).toBe(200);
    const sizeAfterFirst = fx.engine.walStatus().lastSequence;
    for (let i = 0; i < 20; i++) {
      const again = await fx.app.inject({ method: 'POST', url: '/api/wal/checkpoint' });
      expect(again.statusCode).toBe(429);
      expect(again.json().error).toMatch(/VELOZ_WAL_CHECKPOINT_MIN_INTERVAL/);
      const retryAfter = Number(again.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    // Nothing was written for the refused ones.
    expect(fx.engine.walStatus().lastSequence).toBe(sizeAfterFirst);
  });

  it('takes checkpoints back to back when VELOZ_WAL_CHECKPOINT_MIN_INTERVAL is 0', async () => {
    fx = await startFixture({ VELOZ_WAL_CHECKPOINT_MIN_INTERVAL: '0' });
    for (let i = 0; i < 3; i++)
      expect((await fx.app.inject({ method: 'POST', url: '/api/wal/checkpoint' })).statusCode).toBe(200);
  });

  it('halts and resumes trading', async () => {
    fx = await startFixture();
    await fx.app.inject({ method: 'POST', url: '/api/trading/halt', payload: { reason: 'maintenance' } });
    expect((await post(fx, limit)).body).toMatchObject({ reason: 'TRADING_HALTED' });
    await fx.app.inject({ method: 'POST', url: '/api/trading/resume' });
    expect((await post(fx, limit)).status).toBe(201);
  });
});

describe('strategies', () => {
  const grid = {
    type: 'grid',
    symbol: 'BTCUSDT',
    version: 1,
    params: { levels: 2, spacing: '10.00', quantity: '0.001' },
  };

  it('adds, updates idempotently by version, pauses and removes a strategy', async () => {
    fx = await startFixture();
    const put = (body: unknown) =>
      fx!.app.inject({ method: 'PUT', url: '/api/strategies/g1', payload: body as object });
    expect((await put(grid)).statusCode).toBe(201);
    expect((await put(grid)).statusCode).toBe(200);
    expect((await put({ ...grid, params: { ...grid.params, levels: 3 } })).statusCode).toBe(409);
    expect((await put({ ...grid, version: 0 })).statusCode).toBe(409);
    for (let i = 0; i < 3; i++) fx.engine.stepMarket('BTCUSDT');
    const running = (await fx.app.inject('/api/strategies/g1')).json();
    expect(running.state).toBe('running');
    expect(running.ordersPlaced).toBeGreaterThan(0);
    expect(running.openOrders).toBeGreaterThan(0);
    const paused = (await put({ ...grid, version: 2, enabled: false })).json();
    expect(paused).toMatchObject({ state: 'paused', openOrders: 0, version: 2 });
    expect((await put({ ...grid, version: 3 })).statusCode).toBe(200);
    fx.engine.stepMarket('BTCUSDT');
    const del = await fx.app.inject({ method: 'DELETE', url: '/api/strategies/g1' });
    expect(del.statusCode).toBe(200);
    expect(fx.engine.state.open.size).toBe(0);
    expect((await fx.app.inject('/api/strategies/g1')).statusCode).toBe(404);
  });

  it.each([
    [{ ...grid, type: 'arbitrage' }, 'type'],
    [{ ...grid, params: { ...grid.params, spacing: 'ten' } }, 'params.spacing'],
    [{ ...grid, params: { ...grid.params, levels: 0 } }, 'params.levels'],
    [{ ...grid, params: { ...grid.params, colour: 'red' } }, 'params.colour'],
    [{ ...grid, symbol: 'XRPUSDT' }, 'symbol'],
    [{ ...grid, version: -1 }, 'version'],
  ])('rejects a bad strategy %j naming %s', async (body, field) => {
    fx ??= await startFixture();
    const r = await fx.app.inject({ method: 'PUT', url: '/api/strategies/s', payload: body });
    expect(r.statusCode).toBe(400);
    expect(r.json().field).toBe(field);
  });

  it.each(['market_maker', 'momentum'])(
    'runs %s against the simulated market through risk checks',
    async (type) => {
      fx = await startFixture();
      const params =
        type === 'market_maker'
          ? { spread: '20.00', quantity: '0.001', maxInventory: '0.005' }
          : { lookback: 3, threshold: '0.01', quantity: '0.001', maxPosition: '0.003' };
      const r = await fx.app.inject({
        method: 'PUT',
        url: '/api/strategies/s1',
        payload: { type, symbol: 'BTCUSDT', version: 1, params, risk: { maxPosition: '0.01' } },
      });
      expect(r.statusCode).toBe(201);
      for (let i = 0; i < 300; i++) fx.engine.stepMarket('BTCUSDT');
      const s = (await fx.app.inject('/api/strategies/s1')).json();
      expect(s.ordersPlaced).toBeGreaterThan(0);
      expect(Math.abs(Number(s.position))).toBeLessThanOrEqual(0.01);
    },
  );
});
