// A fenced engine (ADR 0018) as the HTTP API shows it: new orders refused with 503 and why,
// /ready false with the reason, cancels still taken; and back to normal when the fence lifts.
import { afterEach, describe, expect, it } from 'vitest';
import { startFixture, type Fixture } from '@veloz/testing/engine-fixture';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const limit = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', quantity: '0.010', price: '40000.00' };

describe('a fenced engine', () => {
  it('refuses new orders and is not ready while fenced, and takes them again after', async () => {
    fx = await startFixture();
    const open = await fx.app.inject({ method: 'POST', url: '/api/orders', payload: limit });
    expect(open.statusCode).toBe(201);
    let why: string | undefined = 'the engine could not renew its Lease desk-engine-0 for 15 s: ECONNREFUSED';
    fx.engine.setFence(() => why);

    const refused = await fx.app.inject({ method: 'POST', url: '/api/orders', payload: limit });
    expect(refused.statusCode).toBe(503);
    expect(refused.json().error).toBe(`fenced: no new orders: ${why}`);
    const ready = await fx.app.inject('/ready');
    expect(ready.statusCode).toBe(503);
    expect(JSON.stringify(ready.json())).toContain(`fenced: ${why}`);
    // A cancel asked for by a client still goes to the venue: it only lowers exposure.
    const cancel = await fx.app.inject({ method: 'DELETE', url: `/api/orders/${open.json().orderId}` });
    expect(cancel.statusCode).toBeLessThan(300);

    why = undefined;
    expect((await fx.app.inject('/ready')).statusCode).toBe(200);
    expect((await fx.app.inject({ method: 'POST', url: '/api/orders', payload: limit })).statusCode).toBe(
      201,
    );
  });
});
