// The gateway serves each route of the engine's HTTP contract as exposure.ts says: a route that
// is neither served nor listed as hidden, or a hidden one that is served, fails here.
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { ROUTES, routeKey, type RouteId } from '@veloz/api/http/contract';
import { FakeUpstream } from '@veloz/testing/fake-upstream';
import { buildGatewayApp } from './app.ts';
import { ApiKeys } from './auth.ts';
import { EXPOSURE } from './exposure.ts';
import { EventHub } from './hub.ts';
import { createGatewayMetrics } from './metrics.ts';

it('registers every contract route it proxies or serves, and none it hides', async () => {
  const app = buildGatewayApp({
    upstream: new FakeUpstream(),
    hub: new EventHub(10),
    keys: new ApiKeys(['k']),
    ratePerSecond: 10,
    metrics: createGatewayMetrics(),
    logger: pino({ level: 'silent' }),
    heartbeatMs: 60_000,
    maxBufferedBytes: 1 << 20,
  });
  const registered: string[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD') registered.push(`${method} ${r.url}`);
  });
  await app.ready();
  try {
    const ids = Object.keys(ROUTES) as RouteId[];
    expect(Object.keys(EXPOSURE).sort()).toEqual([...ids].sort());
    const served = ids.filter((id) => EXPOSURE[id] !== 'hidden').map((id) => routeKey(ROUTES[id]));
    expect(registered.sort()).toEqual(served.sort());
    for (const id of ids) {
      const r = ROUTES[id];
      expect(app.hasRoute({ method: r.method, url: r.url }), routeKey(r)).toBe(EXPOSURE[id] !== 'hidden');
    }
  } finally {
    await app.close();
  }
});
