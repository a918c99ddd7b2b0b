// Desks and pairs sharing one exchange account (ADR 0018), as real engine processes against the
// fake Binance: each engine's client order ids name its desk and pair, and reconciliation adopts
// (and so may later cancel) only the orders naming its own. Two desks and one desk's two pairs
// trade on one account here; every order an engine lacks is planted on the exchange, where only
// the engine it names may take it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatClientOrderId, parseClientOrderId } from '@veloz/api/client-order-id';
import type { Reconciliation } from '@veloz/api/http/contract';
import { until as waitFor } from '@veloz/testing/until';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';
import {
  FAKE_API_KEY as KEY,
  FAKE_API_SECRET as SECRET,
  fakeBinanceEngineEnv,
} from '@veloz/testing/fake-binance/engine-env';
import { FakeBinance } from '@veloz/testing/fake-binance/server';
import { parse } from './binance-answers.ts';
import { BinanceRest } from './binance-rest.ts';

interface OrderView {
  orderId: number;
  clientOrderId: string;
  exchangeClientOrderId: string;
  status: string;
  filledQuantity: string;
}

const until = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> =>
  waitFor(what, fn, timeoutMs, 50);

describe('desks and pairs on one exchange account', () => {
  let fake: FakeBinance;
  const dirs: string[] = [];
  const engines = new Map<string, EngineProcess>();
  const who = [
    { name: 'a0', desk: 'deska', pair: 0 },
    { name: 'a1', desk: 'deska', pair: 1 },
    { name: 'b0', desk: 'deskb', pair: 0 },
  ] as const;

  // Neither the poller nor the user data stream: only reconciliation finds planted orders.
  const env = (dir: string, extra: Record<string, string>) =>
    fakeBinanceEngineEnv(fake, dir, {
      VELOZ_BINANCE_POLL_INTERVAL: '600000',
      VELOZ_BINANCE_USER_STREAM: 'false',
      VELOZ_RECONCILE_INTERVAL: '200',
      ...extra,
    });
  const eng = (name: string) => engines.get(name)!;
  const api = async <T>(name: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${eng(name).url}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : null,
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const orders = async (name: string) =>
    (await api<{ orders: OrderView[] }>(name, 'GET', '/api/orders_state')).body.orders;
  const place = async (name: string, price: string) => {
    const res = await api<OrderView>(name, 'POST', '/api/orders', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '0.001',
      price,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const runs = async (name: string) =>
    (await api<Reconciliation>(name, 'GET', '/api/exchange/reconciliation')).body.runs;
  /** Waits for two more reconciliation runs of every engine: each has looked at the account since. */
  const everyoneLooked = async () => {
    const before = new Map<string, number>();
    for (const name of engines.keys()) before.set(name, await runs(name));
    for (const name of engines.keys())
      await until(`${name} reconciled twice more`, async () =>
        (await runs(name)) >= before.get(name)! + 2 ? true : undefined,
      );
  };
  const rest = () =>
    new BinanceRest({
      baseUrl: fake.url,
      apiKey: KEY,
      apiSecret: SECRET,
      recvWindow: 5000,
      timeoutMs: 2000,
      maxBackoffMs: 1000,
      log: pino({ level: 'silent' }),
    });
  /** An order on the exchange that no engine's WAL holds (a lost volume, a restored clone...). */
  const plant = (cid: string, price: string) =>
    rest().signed(
      'POST',
      '/api/v3/order',
      {
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        quantity: '0.00100',
        price,
        newClientOrderId: cid,
      },
      parse.order,
    );

  beforeAll(async () => {
    fake = await FakeBinance.start({ apiKey: KEY, apiSecret: SECRET, bookTickerIntervalMs: 50 });
    for (const w of who) {
      const dir = await mkdtemp(join(tmpdir(), `veloz-desk-${w.name}-`));
      dirs.push(dir);
      engines.set(
        w.name,
        await startEngineProcess(
          env(dir, { VELOZ_DESK_ID: w.desk, VELOZ_PAIR_INDEX: String(w.pair) }),
          60_000,
        ),
      );
    }
  }, 240_000);

  afterAll(async () => {
    for (const e of engines.values()) await e.kill('SIGKILL');
    await fake?.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('name the desk and the pair in every order sent', async () => {
    for (const [i, w] of who.entries()) {
      const o = await place(w.name, `4${i}000.00`);
      const id = parseClientOrderId(o.exchangeClientOrderId);
      expect(id, o.exchangeClientOrderId).toMatchObject({
        desk: w.desk,
        pair: w.pair,
        tag: '',
        orderId: o.orderId,
      });
      await until(`${w.name}'s order on the exchange`, async () =>
        fake.order(o.exchangeClientOrderId)?.status === 'NEW' ? true : undefined,
      );
    }
    await everyoneLooked();
    // Each engine holds its own order only, and every order is still open on the exchange.
    for (const w of who) {
      const mine = await orders(w.name);
      expect(mine.map((o) => parseClientOrderId(o.exchangeClientOrderId)?.desk)).toEqual([w.desk]);
      expect(mine.map((o) => parseClientOrderId(o.exchangeClientOrderId)?.pair)).toEqual([w.pair]);
      expect(mine[0]!.status).toBe('ACCEPTED');
    }
  });

  it('adopt only the lost orders naming their own desk and pair', async () => {
    const lost = who.map((w, i) =>
      formatClientOrderId({
        desk: w.desk,
        pair: w.pair,
        strategy: 'grid',
        orderId: 900 + i,
        createdAt: Date.now(),
      }),
    );
    for (const [i, cid] of lost.entries()) await plant(cid, `3${i}000.00`);
    // An order of a desk that runs no engine here: nobody's.
    const stranger = formatClientOrderId({
      desk: 'deskc',
      pair: 0,
      strategy: '',
      orderId: 1,
      createdAt: Date.now(),
    });
    await plant(stranger, '35000.00');
    for (const [i, w] of who.entries())
      await until(`${w.name} adopts its lost order`, async () =>
        (await orders(w.name)).some((o) => o.clientOrderId === lost[i] && o.status === 'ACCEPTED')
          ? true
          : undefined,
      );
    await everyoneLooked();
    for (const [i, w] of who.entries()) {
      const held = (await orders(w.name)).map((o) => o.exchangeClientOrderId);
      for (const [j, cid] of lost.entries())
        expect(held.includes(cid), `${w.name} holds ${cid}`).toBe(i === j);
      expect(held).not.toContain(stranger);
    }
    for (const cid of [...lost, stranger]) expect(fake.order(cid)?.status).toBe('NEW');
  });

  it('cancel only their own orders when asked to', async () => {
    const target = (await orders('a0')).find((o) => o.status === 'ACCEPTED')!;
    const res = await api<OrderView>('a0', 'DELETE', `/api/orders/${target.orderId}`);
    expect(res.status).toBeLessThan(300);
    await until('the cancel on the exchange', async () =>
      fake.order(target.exchangeClientOrderId)?.status === 'CANCELED' ? true : undefined,
    );
    await everyoneLooked();
    for (const w of who.filter((x) => x.name !== 'a0'))
      for (const o of await orders(w.name)) {
        expect(o.status, `${w.name}'s order ${o.exchangeClientOrderId}`).toBe('ACCEPTED');
        expect(fake.order(o.exchangeClientOrderId)?.status).toBe('NEW');
      }
  });

  it('an engine started on a WAL from before desk ids still follows its orders', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veloz-desk-legacy-'));
    dirs.push(dir);
    // No desk id: the older veloz-<n>-<time> ids.
    engines.set('old', await startEngineProcess(env(dir, {}), 60_000));
    const before = await place('old', '41500.00');
    expect(before.exchangeClientOrderId).toMatch(/^veloz-\d+-[0-9a-z]+$/);
    await until('the older order on the exchange', async () =>
      fake.order(before.exchangeClientOrderId)?.status === 'NEW' ? true : undefined,
    );
    await eng('old').kill('SIGTERM');
    engines.delete('old');
    // The same WAL under a desk id: the open order keeps its id and is still followed.
    engines.set(
      'upgraded',
      await startEngineProcess(env(dir, { VELOZ_DESK_ID: 'deskd', VELOZ_PAIR_INDEX: '0' }), 60_000),
    );
    const replayed = (await orders('upgraded')).find((o) => o.orderId === before.orderId)!;
    expect(replayed.exchangeClientOrderId).toBe(before.exchangeClientOrderId);
    fake.fill(before.exchangeClientOrderId);
    await until('the older order filled', async () =>
      (await orders('upgraded')).find((o) => o.orderId === before.orderId)?.status === 'FILLED'
        ? true
        : undefined,
    );
    const after = await place('upgraded', '41400.00');
    expect(parseClientOrderId(after.exchangeClientOrderId)).toMatchObject({ desk: 'deskd', pair: 0 });
    // Nobody else took the older id for its own.
    for (const w of who)
      expect(
        (await orders(w.name)).some((o) => o.exchangeClientOrderId === before.exchangeClientOrderId),
      ).toBe(false);
  });
});
