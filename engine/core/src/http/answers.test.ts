// Every answer of the engine, errors included, is one its route's contract lists, with a body
// its schema accepts (checked by an independent validator), over a session that reaches each
// route and each status the engine gives in normal use.
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ROUTES, type RouteId } from '@veloz/api/http/contract';
import { contractViolations } from '@veloz/testing/contract-check';
import { startFixture, type Fixture } from '@veloz/testing/engine-fixture';
import { engineDocument } from './openapi.ts';

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture({ VELOZ_RISK_MAX_ORDER_QUANTITY: '5' });
});
afterAll(async () => fx.close());

const limit = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', quantity: '0.010', price: '40000.00' };
const grid = {
  type: 'grid',
  symbol: 'BTCUSDT',
  version: 1,
  params: { levels: 2, spacing: '10.00', quantity: '0.001' },
};

/** Requests in order, each with the route it is for and the status it should get. */
const session: Array<[RouteId, number, InjectOptions]> = [
  ['health', 200, { url: '/health' }],
  ['ready', 200, { url: '/ready' }],
  ['metrics', 200, { url: '/metrics' }],
  ['openapi', 200, { url: '/openapi.json' }],
  ['walStatus', 200, { url: '/api/wal/status' }],
  ['reconciliation', 200, { url: '/api/exchange/reconciliation' }],
  ['placeOrder', 201, { method: 'POST', url: '/api/orders', payload: { ...limit, clientOrderId: 'c1' } }],
  ['placeOrder', 200, { method: 'POST', url: '/api/orders', payload: { ...limit, clientOrderId: 'c1' } }],
  [
    'placeOrder',
    201,
    { method: 'POST', url: '/api/orders', payload: { ...limit, type: 'MARKET', price: undefined } },
  ],
  ['placeOrder', 400, { method: 'POST', url: '/api/orders', payload: { ...limit, side: 'HOLD' } }],
  ['placeOrder', 400, { method: 'POST', url: '/api/orders', payload: { ...limit, price: '40000.001' } }],
  [
    'placeOrder',
    415,
    { method: 'POST', url: '/api/orders', payload: 'x', headers: { 'content-type': 'application/xml' } },
  ],
  ['placeOrder', 422, { method: 'POST', url: '/api/orders', payload: { ...limit, quantity: '6' } }],
  ['getOrder', 200, { url: '/api/orders/1' }],
  ['getOrder', 404, { url: '/api/orders/999' }],
  ['getOrder', 400, { url: '/api/orders/x' }],
  ['getOrder', 400, { url: '/api/orders/1e0' }],
  ['getOrderByClientId', 200, { url: '/api/orders/client/c1' }],
  ['getOrderByClientId', 404, { url: '/api/orders/client/c999' }],
  ['getOrderByClientId', 400, { url: '/api/orders/client/a%20b' }],
  ['cancelOrder', 200, { method: 'DELETE', url: '/api/orders/1' }],
  ['cancelOrder', 409, { method: 'DELETE', url: '/api/orders/1' }],
  ['cancelOrder', 404, { method: 'DELETE', url: '/api/orders/999' }],
  ['ordersState', 200, { url: '/api/orders_state' }],
  ['ordersState', 200, { url: '/api/orders_state?status=open' }],
  ['ordersState', 400, { url: '/api/orders_state?status=some' }],
  ['ordersState', 200, { url: '/api/orders_state?limit=1' }],
  ['ordersState', 200, { url: '/api/orders_state?limit=1&cursor=1' }],
  ['ordersState', 400, { url: '/api/orders_state?limit=0' }],
  ['ordersState', 400, { url: '/api/orders_state?cursor=1e3' }],
  ['positions', 200, { url: '/api/positions' }],
  ['putStrategy', 201, { method: 'PUT', url: '/api/strategies/g1', payload: grid }],
  ['putStrategy', 200, { method: 'PUT', url: '/api/strategies/g1', payload: grid }],
  ['putStrategy', 409, { method: 'PUT', url: '/api/strategies/g1', payload: { ...grid, version: 0 } }],
  ['putStrategy', 400, { method: 'PUT', url: '/api/strategies/g1', payload: { ...grid, type: 'arbitrage' } }],
  ['getStrategy', 200, { url: '/api/strategies/g1' }],
  ['getStrategy', 404, { url: '/api/strategies/nope' }],
  ['getStrategy', 400, { url: '/api/strategies/NOT_A_NAME' }],
  ['listStrategies', 200, { url: '/api/strategies' }],
  ['deleteStrategy', 200, { method: 'DELETE', url: '/api/strategies/g1' }],
  ['deleteStrategy', 404, { method: 'DELETE', url: '/api/strategies/g1' }],
  ['halt', 200, { method: 'POST', url: '/api/trading/halt', payload: { reason: 'test' } }],
  ['halt', 200, { method: 'POST', url: '/api/trading/halt' }],
  ['halt', 400, { method: 'POST', url: '/api/trading/halt', payload: { reason: 1, more: true } }],
  [
    'halt',
    400,
    {
      method: 'POST',
      url: '/api/trading/halt',
      payload: 'false',
      headers: { 'content-type': 'application/json' },
    },
  ],
  ['placeOrder', 422, { method: 'POST', url: '/api/orders', payload: limit }],
  ['resume', 200, { method: 'POST', url: '/api/trading/resume' }],
  ['walCheckpoint', 200, { method: 'POST', url: '/api/wal/checkpoint' }],
  ['walCheckpoint', 429, { method: 'POST', url: '/api/wal/checkpoint' }],
  ['walStatus', 200, { url: '/api/wal/status' }],
  ['walBackup', 200, { url: '/api/wal/backup' }],
  ['walBackup', 400, { url: '/api/wal/backup?have=ZZZ' }],
];

it('answers every request of a session as its route’s contract says', async () => {
  const problems: string[] = [];
  for (const [id, status, req] of session) {
    const res = await fx.app.inject(req);
    const where = `${req.method ?? 'GET'} ${req.url as string}`;
    if (res.statusCode !== status)
      problems.push(`${where}: ${res.statusCode}, expected ${status}: ${res.body}`);
    problems.push(
      ...contractViolations(ROUTES[id], res.statusCode, res.headers['content-type'] as string, res.body).map(
        (p) => `${where}: ${p}`,
      ),
    );
  }
  expect(problems).toEqual([]);
  // Every route of the contract was asked.
  expect(new Set(session.map(([id]) => id))).toEqual(
    new Set(Object.keys(ROUTES).filter((id) => id !== 'stream')),
  );
});

it('answers a rate-limited order with 429 and Retry-After as the contract says', async () => {
  const f = await startFixture({ VELOZ_ORDER_RATE_LIMIT: '1' });
  try {
    await f.app.inject({ method: 'POST', url: '/api/orders', payload: limit });
    const res = await f.app.inject({ method: 'POST', url: '/api/orders', payload: limit });
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(
      contractViolations(ROUTES.placeOrder, 429, res.headers['content-type'] as string, res.body),
    ).toEqual([]);
  } finally {
    await f.close();
  }
});

it('serves its OpenAPI document', async () => {
  const res = await fx.app.inject('/openapi.json');
  expect(res.json()).toEqual(engineDocument());
});
