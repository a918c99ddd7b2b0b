// An independent, widely used client library against the fake: what works against Binance must
// work against it, for every endpoint the issue (#15) names as called by such libraries. `binance` (tiagosiebler, the npm package "binance") signs its own requests,
// parses the answers and raises Binance's error codes.
import { MainClient } from 'binance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeBinance } from './server.ts';

describe('the binance client library against the fake', () => {
  let fake: FakeBinance;
  let client: MainClient;

  beforeAll(async () => {
    fake = await FakeBinance.start({
      apiKey: 'lib-key',
      apiSecret: 'lib-secret',
      commission: { rate: '0.001' },
    });
    fake.publishTrade('BTCUSDT', '50000.05', '0.1');
    client = new MainClient({
      api_key: 'lib-key',
      api_secret: 'lib-secret',
      baseUrl: fake.url,
      disableTimeSync: true,
    });
  });
  afterAll(() => fake.close());

  // getServerTime() is left out: the library sends it to its built-in host whatever baseUrl says.
  it('reads market data: ping, exchange info, 24h ticker, book ticker, aggregate trades', async () => {
    expect(await client.testConnectivity()).toEqual({});
    const info = await client.getExchangeInfo({ symbol: 'BTCUSDT' });
    expect(info.symbols[0]).toMatchObject({ symbol: 'BTCUSDT', status: 'TRADING' });
    const ticker = await client.get24hrChangeStatistics({ symbol: 'BTCUSDT' });
    expect(ticker).toMatchObject({ symbol: 'BTCUSDT', lastPrice: '50000.05000000' });
    const books = await client.getSymbolOrderBookTicker({ symbols: ['BTCUSDT'] });
    expect(books).toEqual([expect.objectContaining({ symbol: 'BTCUSDT', bidPrice: '50000.00000000' })]);
    const agg = await client.getAggregateTrades({ symbol: 'BTCUSDT' });
    expect(agg.at(-1)).toMatchObject({ p: '50000.05000000', q: '0.10000000' });
  });

  it('trades: account, new order, query, cancel, trades with commission', async () => {
    const account = await client.getAccountInformation();
    expect(account.canTrade).toBe(true);
    const resting = await client.submitNewOrder({
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: 0.01,
      price: 49000,
      newOrderRespType: 'RESULT',
    });
    expect(resting).toMatchObject({ status: 'NEW' });
    const queried = await client.getOrder({ symbol: 'BTCUSDT', orderId: resting.orderId });
    expect(queried).toMatchObject({ orderId: resting.orderId, status: 'NEW' });
    const canceled = await client.cancelOrder({ symbol: 'BTCUSDT', orderId: resting.orderId });
    expect(canceled).toMatchObject({ status: 'CANCELED', origClientOrderId: resting.clientOrderId });
    const taker = await client.submitNewOrder({
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'MARKET',
      quantity: 0.01,
      newOrderRespType: 'FULL',
    });
    expect(taker).toMatchObject({ status: 'FILLED' });
    const trades = await client.getAccountTradeList({ symbol: 'BTCUSDT' });
    expect(trades.at(-1)).toMatchObject({
      orderId: taker.orderId,
      commission: '0.00001000',
      commissionAsset: 'BTC',
    });
  });

  it('lists open and all orders, and cancels every open order of a symbol at once', async () => {
    const place = (price: number) =>
      client.submitNewOrder({
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        quantity: 0.01,
        price,
        newOrderRespType: 'ACK',
      });
    const a = await place(48000);
    const b = await place(47000);
    const open = await client.getOpenOrders({ symbol: 'BTCUSDT' });
    expect(open.map((o) => o.orderId).sort()).toEqual([a.orderId, b.orderId].sort());
    const canceled = await client.cancelAllSymbolOrders({ symbol: 'BTCUSDT' });
    expect(canceled.map((o) => [o.orderId, o.status]).sort()).toEqual(
      [a.orderId, b.orderId].sort().map((id) => [id, 'CANCELED']),
    );
    expect(await client.getOpenOrders({ symbol: 'BTCUSDT' })).toEqual([]);
    const all = await client.getAllOrders({ symbol: 'BTCUSDT' });
    expect(all.filter((o) => o.orderId === a.orderId || o.orderId === b.orderId)).toEqual([
      expect.objectContaining({ orderId: a.orderId, status: 'CANCELED' }),
      expect.objectContaining({ orderId: b.orderId, status: 'CANCELED' }),
    ]);
  });

  it('sees Binance’s error codes', async () => {
    await expect(client.getOrder({ symbol: 'BTCUSDT', orderId: 999_999 })).rejects.toMatchObject({
      code: -2013,
    });
  });
});
