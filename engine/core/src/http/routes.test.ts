// The engine serves exactly the routes of the HTTP contract: a route added to the contract and
// not served, or served and not in the contract, fails here.
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { ROUTES, routeKey } from '@veloz/api/http/contract';
import { startFixture, type Fixture } from '@veloz/testing/engine-fixture';
import { buildApp } from './app.ts';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

it('registers every route of the contract and no other', async () => {
  fx = await startFixture();
  const app = buildApp({ engine: fx.engine, strategies: fx.strategies, logger: pino({ level: 'silent' }) });
  // Every route is registered by a plugin, so this hook, added before they load, sees them all.
  const registered: string[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD') registered.push(`${method} ${r.url}`);
  });
  await app.ready();
  try {
    const contract = Object.values(ROUTES).map(routeKey);
    expect(registered.sort()).toEqual(contract.sort());
    for (const r of Object.values(ROUTES))
      expect(app.hasRoute({ method: r.method, url: r.url }), routeKey(r)).toBe(true);
  } finally {
    await app.close();
  }
});
