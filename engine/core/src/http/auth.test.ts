import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ROUTES, type Route } from '@veloz/api/http/contract';
import { ENGINE_TOKEN_HEADER } from '@veloz/api/http/credentials';
import { startFixture, type Fixture } from '@veloz/testing/engine-fixture';
import { buildApp } from './app.ts';
import type { EngineAuth } from './auth.ts';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const list = (...t: string[]) => ({ all: () => t });
const tokens: EngineAuth = {
  mode: 'tokens',
  tokens: { trading: list('t-old', 't-new'), admin: list('a-1'), backup: list('b-1') },
};

async function appWith(auth: EngineAuth) {
  fx = await startFixture();
  const app = buildApp({
    engine: fx.engine,
    strategies: fx.strategies,
    logger: pino({ level: 'silent' }),
    auth,
  });
  await app.ready();
  return app;
}

const urlOf = (r: Route) => r.url.replace(':id', '1').replace(':name', 'grid-1');

// The expected answer of each route for each token, written out from the scopes of ADR 14 rather
// than computed from credentials.ts, so a change there shows up here.
const OPEN = ['health', 'ready', 'metrics', 'openapi'];
const ADMIN = ['putStrategy', 'deleteStrategy', 'halt', 'resume', 'walStatus', 'walCheckpoint'];
const BACKUP = ['walBackup'];

function expected(id: string, token: 'none' | 'trading' | 'admin' | 'backup' | 'bogus'): 'pass' | 401 | 403 {
  if (OPEN.includes(id)) return 'pass';
  if (token === 'none' || token === 'bogus') return 401;
  if (BACKUP.includes(id)) return token === 'backup' ? 'pass' : 403;
  if (ADMIN.includes(id)) return token === 'admin' ? 'pass' : 403;
  return token === 'trading' || token === 'admin' ? 'pass' : 403;
}

const TOKEN = { trading: 't-new', admin: 'a-1', backup: 'b-1', bogus: 'nope' } as const;

describe('engine credentials', () => {
  it('answers 401 without a token, 403 with a token of the wrong scope, and serves the right one', async () => {
    const app = await appWith(tokens);
    for (const [id, r] of Object.entries(ROUTES)) {
      for (const token of ['none', 'trading', 'admin', 'backup', 'bogus'] as const) {
        const want = expected(id, token);
        // The event stream never ends: only its refusals are asked for.
        if (id === 'stream' && want === 'pass') continue;
        const res = await app.inject({
          method: r.method,
          url: urlOf(r),
          headers: token === 'none' ? {} : { [ENGINE_TOKEN_HEADER]: TOKEN[token] },
          ...(r.method === 'POST' || r.method === 'PUT' ? { payload: {} } : {}),
        });
        const got = res.statusCode === 401 || res.statusCode === 403 ? res.statusCode : 'pass';
        expect({ id, token, got }).toEqual({ id, token, got: want });
        if (got === 401) expect(res.json().error).toMatch(/engine token/);
      }
    }
  });

  it('takes the token as Authorization: Bearer too, and every token of a scope (a rotation)', async () => {
    const app = await appWith(tokens);
    for (const t of ['t-old', 't-new']) {
      const res = await app.inject({ url: '/api/orders_state', headers: { authorization: `Bearer ${t}` } });
      expect(res.statusCode).toBe(200);
    }
    const res = await app.inject({ url: '/api/orders_state', headers: { authorization: 'Bearer a-2' } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('reads the tokens at each request, so a token removed from its source stops working', async () => {
    let current = ['a-1'];
    const app = await appWith({ mode: 'tokens', tokens: { admin: { all: () => current } } });
    const ask = () => app.inject({ url: '/api/wal/status', headers: { [ENGINE_TOKEN_HEADER]: 'a-1' } });
    expect((await ask()).statusCode).toBe(200);
    current = ['a-2'];
    expect((await ask()).statusCode).toBe(401);
  });

  it('without tokens serves loopback clients only, and probes to anyone', async () => {
    const app = await appWith({ mode: 'loopback' });
    const local = await app.inject({ url: '/api/orders_state', remoteAddress: '127.0.0.1' });
    expect(local.statusCode).toBe(200);
    const remote = await app.inject({ url: '/api/orders_state', remoteAddress: '10.1.2.3' });
    expect(remote.statusCode).toBe(401);
    expect(remote.json().error).toMatch(/only loopback clients/);
    const probe = await app.inject({ url: '/ready', remoteAddress: '10.1.2.3' });
    expect(probe.statusCode).toBe(200);
    const unknown = await app.inject({ url: '/nope', remoteAddress: '10.1.2.3' });
    expect(unknown.statusCode).toBe(404);
  });
});
