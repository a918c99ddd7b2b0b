// The fake against the documentation: its answers have the fields and types of the docs' own
// samples (fixtures/), it reads parameters and signatures the way the docs say (query string or
// form body), answers documented errors, and injects the failures tests ask for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { hmacSha256Hex } from '@veloz/engine/exchange/signing';
import { fixture, shapeDifferences } from './fixtures.ts';
import { BTCUSDT, ETHUSDT, FakeBinance } from './server.ts';

const KEY = 'fake-key';
const SECRET = 'fake-secret';

describe('the fake Binance', () => {
  let fake: FakeBinance;
  let n = 0;

  const call = async (
    method: string,
    path: string,
    params: Record<string, string> = {},
    how: 'query' | 'body' | 'mixed' | 'unsigned' = 'query',
  ) => {
    const all = new URLSearchParams({ ...params, recvWindow: '5000', timestamp: String(Date.now()) });
    let query = '';
    let body = '';
    if (how === 'unsigned') query = new URLSearchParams(params).toString();
    else if (how === 'query') {
      query = `${all.toString()}&signature=${hmacSha256Hex(all.toString(), SECRET)}`;
    } else if (how === 'body') {
      body = `${all.toString()}&signature=${hmacSha256Hex(all.toString(), SECRET)}`;
    } else {
      // The docs: the signature covers the query string concatenated to the body.
      const entries = [...all];
      query = new URLSearchParams(entries.slice(0, 2)).toString();
      body = new URLSearchParams(entries.slice(2)).toString();
      query += `&signature=${hmacSha256Hex(query + body, SECRET)}`;
    }
    const res = await fetch(`${fake.url}${path}${query ? `?${query}` : ''}`, {
      method,
      headers: {
        'X-MBX-APIKEY': KEY,
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: body || null,
    });
    const text = await res.text();
    return {
      status: res.status,
      weight: res.headers.get('x-mbx-used-weight-1m'),
      body: (text.startsWith('<') ? text : JSON.parse(text)) as unknown,
    };
  };
  const order = (extra: Record<string, string> = {}) => ({
    symbol: 'BTCUSDT',
    side: 'BUY',
    type: 'LIMIT',
    timeInForce: 'GTC',
    quantity: '0.01000',
    price: '49000.00',
    newClientOrderId: `c${++n}`,
    ...extra,
  });

  beforeAll(async () => {
    fake = await FakeBinance.start({ apiKey: KEY, apiSecret: SECRET, symbols: [BTCUSDT, ETHUSDT] });
    fake.publishTrade('BTCUSDT', '50000.05', '0.1');
  });
  afterAll(() => fake.close());

  describe('answers like the docs’ samples', () => {
    const cases: Array<[string, () => Promise<unknown>]> = [
      ['ping', async () => (await call('GET', '/api/v3/ping', {}, 'unsigned')).body],
      ['time', async () => (await call('GET', '/api/v3/time', {}, 'unsigned')).body],
      [
        'exchange-info',
        async () => (await call('GET', '/api/v3/exchangeInfo', { symbol: 'BTCUSDT' }, 'unsigned')).body,
      ],
      ['depth', async () => (await call('GET', '/api/v3/depth', { symbol: 'BTCUSDT' }, 'unsigned')).body],
      ['trades', async () => (await call('GET', '/api/v3/trades', { symbol: 'BTCUSDT' }, 'unsigned')).body],
      [
        'agg-trades',
        async () => (await call('GET', '/api/v3/aggTrades', { symbol: 'BTCUSDT' }, 'unsigned')).body,
      ],
      [
        'ticker-24hr',
        async () => (await call('GET', '/api/v3/ticker/24hr', { symbol: 'BTCUSDT' }, 'unsigned')).body,
      ],
      [
        'ticker-24hr-mini',
        async () =>
          (await call('GET', '/api/v3/ticker/24hr', { symbol: 'BTCUSDT', type: 'MINI' }, 'unsigned')).body,
      ],
      [
        'book-ticker',
        async () => (await call('GET', '/api/v3/ticker/bookTicker', { symbol: 'BTCUSDT' }, 'unsigned')).body,
      ],
      [
        'book-tickers',
        async () =>
          (await call('GET', '/api/v3/ticker/bookTicker', { symbols: '["BTCUSDT","ETHUSDT"]' }, 'unsigned'))
            .body,
      ],
      [
        'ticker-price',
        async () => (await call('GET', '/api/v3/ticker/price', { symbol: 'BTCUSDT' }, 'unsigned')).body,
      ],
      ['error', async () => (await call('GET', '/api/v3/depth', { symbol: 'NOPE' }, 'unsigned')).body],
      [
        'order-ack',
        async () => (await call('POST', '/api/v3/order', order({ newOrderRespType: 'ACK' }))).body,
      ],
      [
        'order-result',
        async () => (await call('POST', '/api/v3/order', order({ newOrderRespType: 'RESULT' }))).body,
      ],
      ['order-full', async () => (await call('POST', '/api/v3/order', order({ price: '50001.00' }))).body],
      ['order-test', async () => (await call('POST', '/api/v3/order/test', order())).body],
      [
        'order-query',
        async () => {
          const o = order();
          await call('POST', '/api/v3/order', o);
          return (
            await call('GET', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: o.newClientOrderId })
          ).body;
        },
      ],
      ['open-orders', async () => (await call('GET', '/api/v3/openOrders', { symbol: 'BTCUSDT' })).body],
      ['all-orders', async () => (await call('GET', '/api/v3/allOrders', { symbol: 'BTCUSDT' })).body],
      ['my-trades', async () => (await call('GET', '/api/v3/myTrades', { symbol: 'BTCUSDT' })).body],
      ['account', async () => (await call('GET', '/api/v3/account')).body],
      [
        'cancel',
        async () => {
          const o = order();
          await call('POST', '/api/v3/order', o);
          return (
            await call('DELETE', '/api/v3/order', {
              symbol: 'BTCUSDT',
              origClientOrderId: o.newClientOrderId,
            })
          ).body;
        },
      ],
      [
        'cancel-open-orders',
        async () => {
          await call('POST', '/api/v3/order', order());
          return (await call('DELETE', '/api/v3/openOrders', { symbol: 'BTCUSDT' })).body;
        },
      ],
    ];
    it.each(cases)('%s', async (name, get) => {
      const answer = await get();
      expect(shapeDifferences(answer, fixture(name).answer)).toEqual([]);
    });

    it('has a fixture for every case, each naming its doc section', () => {
      for (const [name] of cases) expect(fixture(name).source.section).toBeTruthy();
    });
  });

  describe('parameters and signatures', () => {
    it.each(['query', 'body', 'mixed'] as const)('accepts signed parameters in the %s', async (how) => {
      const res = await call('POST', '/api/v3/order', order(), how);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ status: 'NEW' });
    });

    it('refuses a wrong signature, a missing key and a stale timestamp with the documented codes', async () => {
      const all = new URLSearchParams({ symbol: 'BTCUSDT', timestamp: String(Date.now()) });
      const bad = await fetch(
        `${fake.url}/api/v3/openOrders?${all.toString()}&signature=${hmacSha256Hex(all.toString(), 'x')}`,
        {
          headers: { 'X-MBX-APIKEY': KEY },
        },
      );
      expect(await bad.json()).toEqual({ code: -1022, msg: 'Signature for this request is not valid.' });
      const noKey = await fetch(
        `${fake.url}/api/v3/openOrders?${all.toString()}&signature=${hmacSha256Hex(all.toString(), SECRET)}`,
      );
      expect(((await noKey.json()) as { code: number }).code).toBe(-2014);
      fake.clockSkewMs = 10_000;
      try {
        expect((await call('GET', '/api/v3/openOrders')).body).toMatchObject({ code: -1021 });
      } finally {
        fake.clockSkewMs = 0;
      }
    });

    it('answers -1121 for an unknown symbol in exchangeInfo instead of leaving it out', async () => {
      const res = await call(
        'GET',
        '/api/v3/exchangeInfo',
        { symbols: '["BTCUSDT","DOGEUSDT"]' },
        'unsigned',
      );
      expect(res).toMatchObject({ status: 400, body: { code: -1121, msg: 'Invalid symbol.' } });
    });

    it('counts request weight as the docs give it', async () => {
      const a = Number((await call('GET', '/api/v3/ping', {}, 'unsigned')).weight);
      const b = Number((await call('GET', '/api/v3/exchangeInfo', {}, 'unsigned')).weight);
      expect(b - a).toBe(20);
    });
  });

  describe('orders', () => {
    it('names the canceled order by origClientOrderId and the cancel by a new clientOrderId', async () => {
      const o = order();
      await call('POST', '/api/v3/order', o);
      const res = await call('DELETE', '/api/v3/order', {
        symbol: 'BTCUSDT',
        origClientOrderId: o.newClientOrderId,
        newClientOrderId: 'my-cancel',
      });
      expect(res.body).toMatchObject({
        origClientOrderId: o.newClientOrderId,
        clientOrderId: 'my-cancel',
        status: 'CANCELED',
      });
      const again = await call('DELETE', '/api/v3/order', {
        symbol: 'BTCUSDT',
        origClientOrderId: o.newClientOrderId,
      });
      expect(again.body).toEqual({ code: -2011, msg: 'Unknown order sent.' });
    });

    it('pages myTrades with fromId and limit, and answers the most recent trades without fromId', async () => {
      const o = order({ quantity: '0.01200' });
      await call('POST', '/api/v3/order', o);
      for (let i = 0; i < 12; i++) fake.fill(o.newClientOrderId, '0.00100');
      const id = fake.order(o.newClientOrderId)!.orderId;
      const page = async (extra: Record<string, string>) =>
        (await call('GET', '/api/v3/myTrades', { symbol: 'BTCUSDT', orderId: String(id), ...extra }))
          .body as Array<{
          id: number;
        }>;
      const first = await page({ fromId: '0', limit: '5' });
      expect(first).toHaveLength(5);
      const second = await page({ fromId: String(first.at(-1)!.id + 1), limit: '5' });
      expect(second[0]!.id).toBeGreaterThan(first.at(-1)!.id);
      const recent = await page({ limit: '5' });
      expect(recent.at(-1)!.id).toBe(fake.order(o.newClientOrderId)!.trades.at(-1)!.id);
      expect(await page({})).toHaveLength(12);
    });

    it('takes commission in the asset received, or another, and keeps balances', async () => {
      const f = await FakeBinance.start({
        apiKey: KEY,
        apiSecret: SECRET,
        balances: { BTC: '0', USDT: '1000' },
        commission: { rate: '0.001' },
      });
      const own = fake;
      fake = f;
      try {
        const buy = await call('POST', '/api/v3/order', order({ price: '50001.00' }));
        expect(buy.body).toMatchObject({
          status: 'FILLED',
          fills: [{ qty: '0.01000000', commission: '0.00001000', commissionAsset: 'BTC' }],
        });
        expect(f.balance('BTC')).toEqual({ free: '0.00999000', locked: '0.00000000' });
        // Selling what was bought, fee included, is more than the account holds.
        const sell = await call('POST', '/api/v3/order', order({ side: 'SELL', price: '49000.00' }));
        expect(sell.body).toEqual({
          code: -2010,
          msg: 'Account has insufficient balance for requested action.',
        });
        f.commission = { rate: '0.001', asset: 'BNB' };
        const sold = await call(
          'POST',
          '/api/v3/order',
          order({ side: 'SELL', price: '49000.00', quantity: '0.00999' }),
        );
        expect(sold.body).toMatchObject({ status: 'FILLED', fills: [{ commissionAsset: 'BNB' }] });
      } finally {
        fake = own;
        await f.close();
      }
    });

    it('refuses new orders on a symbol that is not TRADING', async () => {
      fake.setSymbolStatus('BTCUSDT', 'HALT');
      try {
        expect((await call('POST', '/api/v3/order', order())).body).toEqual({
          code: -2010,
          msg: 'Market is closed.',
        });
        const info = (await call('GET', '/api/v3/exchangeInfo', { symbol: 'BTCUSDT' }, 'unsigned')).body as {
          symbols: Array<{ status: string }>;
        };
        expect(info.symbols[0]!.status).toBe('HALT');
      } finally {
        fake.setSymbolStatus('BTCUSDT', 'TRADING');
      }
    });

    it('lists extra filters and a disabled tick size', async () => {
      const info = (await call('GET', '/api/v3/exchangeInfo', { symbol: 'ETHUSDT' }, 'unsigned')).body as {
        symbols: Array<{ filters: Array<{ filterType: string; tickSize?: string }> }>;
      };
      const filters = info.symbols[0]!.filters;
      expect(filters.map((x) => x.filterType)).toContain('PERCENT_PRICE_BY_SIDE');
      expect(filters[0]!.tickSize).toBe('0.00000000');
      const odd = await call(
        'POST',
        '/api/v3/order',
        order({ symbol: 'ETHUSDT', price: '2999.12345678', quantity: '0.1000' }),
      );
      expect(odd.body).toMatchObject({ status: 'NEW', price: '2999.12345678' });
    });
  });

  describe('injected failures', () => {
    it('delivers a late request after the delay, checked against recvWindow then', async () => {
      fake.failNext({ method: 'POST', path: '/api/v3/order' }, { kind: 'late', delayMs: 300 });
      const o = order();
      const sent = call('POST', '/api/v3/order', o);
      await new Promise((r) => setTimeout(r, 100));
      expect(fake.order(o.newClientOrderId)).toBeUndefined();
      expect((await sent).body).toMatchObject({ status: 'NEW' });
      expect(fake.order(o.newClientOrderId)).toBeDefined();
    });

    it('answers -1007 after executing, and a 403 page without a code', async () => {
      fake.failNext(
        { method: 'POST', path: '/api/v3/order' },
        {
          kind: 'error',
          status: 408,
          code: -1007,
          msg: 'Timeout waiting for response from backend server.',
          execute: true,
        },
      );
      const o = order();
      expect((await call('POST', '/api/v3/order', o)).body).toMatchObject({ code: -1007 });
      expect(fake.order(o.newClientOrderId)?.status).toBe('NEW');
      fake.failNext({ path: '/api/v3/ping' }, { kind: 'error', status: 403, msg: 'Forbidden' });
      const waf = await call('GET', '/api/v3/ping', {}, 'unsigned');
      expect(waf.status).toBe(403);
      expect(waf.body).toMatch(/^<html>/);
    });
  });

  describe('WebSocket control messages', () => {
    const session = async (path: string) => {
      const ws = new WebSocket(`${fake.wsUrl.replace(/\/ws$/, '')}${path}`);
      const inbox: unknown[] = [];
      ws.on('message', (d: Buffer) => inbox.push(JSON.parse(d.toString())));
      await new Promise((r) => ws.once('open', r));
      const ask = async (msg: unknown) => {
        const before = inbox.length;
        ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
        for (let i = 0; i < 100 && inbox.length === before; i++) await new Promise((r) => setTimeout(r, 10));
        return inbox[before];
      };
      return { ws, inbox, ask };
    };

    it('replies as documented to subscribe, unsubscribe, list and properties', async () => {
      const s = await session('/ws/btcusdt@trade');
      try {
        const sub = await s.ask({ method: 'SUBSCRIBE', params: ['btcusdt@aggTrade'], id: 1 });
        expect(sub).toEqual(fixture('ws-subscribe').answer);
        const list = (await s.ask({ method: 'LIST_SUBSCRIPTIONS', id: 3 })) as { result: string[] };
        expect(shapeDifferences(list, fixture('ws-list-subscriptions').answer)).toEqual([]);
        expect(list.result).toEqual(['btcusdt@trade', 'btcusdt@aggTrade']);
        expect(await s.ask({ method: 'UNSUBSCRIBE', params: ['btcusdt@trade'], id: 312 })).toEqual(
          fixture('ws-unsubscribe').answer,
        );
        expect(await s.ask({ method: 'GET_PROPERTY', params: ['combined'], id: 2 })).toEqual({
          result: false,
          id: 2,
        });
        expect(await s.ask({ method: 'SET_PROPERTY', params: ['combined', true], id: 5 })).toEqual({
          result: null,
          id: 5,
        });
        expect(await s.ask({ method: 'GET_PROPERTY', params: ['combined'], id: 2 })).toEqual(
          fixture('ws-get-property').answer,
        );
        expect(await s.ask({ method: 'GET_PROPERTY', params: ['nope'], id: 7 })).toEqual({
          code: 0,
          msg: 'Unknown property',
          id: 7,
        });
        expect(await s.ask({ method: 'SET_PROPERTY', params: ['combined', 'yes'], id: 8 })).toEqual({
          code: 1,
          msg: 'Invalid value type: expected Boolean',
        });
        expect(await s.ask({ method: 'PING', id: 9 })).toMatchObject({ code: 2 });
        expect(await s.ask({ params: [], id: 9 })).toMatchObject({ code: 2, msg: /missing field `method`/ });
        expect(await s.ask('{nope')).toMatchObject({ code: 3, msg: /^Invalid JSON/ });
        // combined is true now: events come wrapped as {"stream","data"}.
        await s.ask({ method: 'SUBSCRIBE', params: ['btcusdt@trade'], id: 10 });
        const before = s.inbox.length;
        fake.publishTrade('BTCUSDT', '50000.01', '0.5');
        for (let i = 0; i < 100 && s.inbox.length === before; i++)
          await new Promise((r) => setTimeout(r, 10));
        expect(s.inbox[before]).toMatchObject({ stream: 'btcusdt@trade', data: { e: 'trade' } });
      } finally {
        s.ws.close();
      }
    });

    it('streams trades and book tickers with the documented fields, and announces a shutdown', async () => {
      const s = await session('/stream?streams=btcusdt@trade/btcusdt@bookTicker');
      try {
        fake.publishTrade('BTCUSDT', '50000.01', '0.5');
        fake.setBook('BTCUSDT', '50000.00', '50000.10');
        fake.serverShutdown();
        for (let i = 0; i < 100 && s.inbox.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
        const [trade, book, shutdown] = s.inbox as Array<{ stream: string; data: unknown }>;
        expect(shapeDifferences(trade!.data, fixture('ws-trade').answer)).toEqual([]);
        expect(shapeDifferences(book!.data, fixture('ws-book-ticker').answer)).toEqual([]);
        expect(shapeDifferences(shutdown, fixture('ws-server-shutdown').answer)).toEqual([]);
      } finally {
        s.ws.close();
      }
    });
  });
});
