// The fake's WebSocket API driven by hand, as web-socket-api.md describes the exchange's.
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { hmacSha256Hex } from '@veloz/engine/exchange/signing';
import { FakeBinance } from './server.ts';

const KEY = 'k-123';
const SECRET = 's-456';

type Msg = Record<string, unknown> & { event?: Record<string, unknown> };

async function connect(url: string) {
  const ws = new WebSocket(url);
  const msgs: Msg[] = [];
  ws.on('message', (raw: Buffer) => msgs.push(JSON.parse(raw.toString()) as Msg));
  await once(ws, 'open');
  const next = async (pred: (m: Msg) => boolean): Promise<Msg> => {
    for (let i = 0; i < 200; i++) {
      const m = msgs.find(pred);
      if (m) return m;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('no such message');
  };
  return { ws, msgs, next };
}

function subscribe(ts: number, key = KEY, secret = SECRET) {
  const payload = `apiKey=${key}&recvWindow=5000&timestamp=${ts}`;
  return JSON.stringify({
    id: 'a1',
    method: 'userDataStream.subscribe.signature',
    params: { apiKey: key, recvWindow: 5000, timestamp: ts, signature: hmacSha256Hex(payload, secret) },
  });
}

describe('fake WebSocket API', () => {
  let fake: FakeBinance;
  beforeEach(async () => {
    fake = await FakeBinance.start({ apiKey: KEY, apiSecret: SECRET });
  });
  afterEach(() => fake.close());

  it('subscribes with a signature and sends executionReports with the subscription id', async () => {
    const c = await connect(fake.wsApiUrl);
    c.ws.send(subscribe(Date.now()));
    const ok = await c.next((m) => m.id === 'a1');
    expect(ok).toMatchObject({ status: 200, result: { subscriptionId: 0 } });
    expect(ok.rateLimits).toEqual([expect.objectContaining({ rateLimitType: 'REQUEST_WEIGHT', count: 2 })]);
    const ev = await placeAndWait(fake, c);
    expect(ev).toMatchObject({ subscriptionId: 0, event: { e: 'executionReport', x: 'NEW', X: 'NEW' } });
    c.ws.close();
  });

  it.each([
    ['another key', () => subscribe(Date.now(), 'other'), -2015],
    ['a wrong signature', () => subscribe(Date.now(), KEY, 'wrong'), -1022],
    ['a stale timestamp', () => subscribe(Date.now() - 60_000), -1021],
  ])('refuses %s', async (_why, msg, code) => {
    const c = await connect(fake.wsApiUrl);
    c.ws.send(msg());
    const m = await c.next((x) => x.id === 'a1');
    expect(m).toMatchObject({ error: { code } });
    expect(fake.wsApi.subscribed).toBe(0);
    c.ws.close();
  });

  it('announces serverShutdown and ends the stream on unsubscribe', async () => {
    const c = await connect(fake.wsApiUrl);
    c.ws.send(subscribe(Date.now()));
    await c.next((m) => m.id === 'a1');
    fake.wsApiShutdown();
    expect(await c.next((m) => m.event?.e === 'serverShutdown')).not.toHaveProperty('subscriptionId');
    c.ws.send(JSON.stringify({ id: 'u', method: 'userDataStream.unsubscribe' }));
    await c.next((m) => m.event?.e === 'eventStreamTerminated');
    expect(fake.wsApi.subscribed).toBe(0);
    c.ws.close();
  });
});

async function placeAndWait(fake: FakeBinance, c: Awaited<ReturnType<typeof connect>>): Promise<Msg> {
  const ts = Date.now();
  const q = `symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=1000&newClientOrderId=x1&timestamp=${ts}`;
  const res = await fetch(`${fake.url}/api/v3/order?${q}&signature=${hmacSha256Hex(q, SECRET)}`, {
    method: 'POST',
    headers: { 'X-MBX-APIKEY': KEY },
  });
  expect(res.status).toBe(200);
  return c.next((m) => m.event?.e === 'executionReport');
}
