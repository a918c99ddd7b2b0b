import { describe, expect, it } from 'vitest';
import { hmacSha256Hex } from './signing.ts';
import { fromExecutionReport, wsApiSignaturePayload } from './user-stream.ts';

// An executionReport with the fields user-data-stream.md lists (values made up for this test).
const trade = {
  e: 'executionReport',
  E: 1700000000100,
  s: 'BTCUSDT',
  c: 'veloz-7-abc',
  S: 'BUY',
  o: 'LIMIT',
  f: 'GTC',
  q: '0.01000000',
  p: '49000.00000000',
  P: '0.00000000',
  F: '0.00000000',
  g: -1,
  C: '',
  x: 'TRADE',
  X: 'PARTIALLY_FILLED',
  r: 'NONE',
  i: 1234,
  l: '0.00400000',
  z: '0.00600000',
  L: '49000.00000000',
  n: '0.00000400',
  N: 'BTC',
  T: 1700000000099,
  t: 77,
  I: 9001,
  w: true,
  m: true,
  M: false,
  O: 1700000000000,
  Z: '294.00000000',
  Y: '196.00000000',
  Q: '0.00000000',
  W: 1700000000000,
  V: 'EXPIRE_MAKER',
};

describe('executionReport', () => {
  it('reads a trade with its commission and the quantity executed before it', () => {
    const r = fromExecutionReport(trade)!;
    expect(r.order).toMatchObject({
      symbol: 'BTCUSDT',
      orderId: 1234,
      clientOrderId: 'veloz-7-abc',
      executedQty: '0.00600000',
      status: 'PARTIALLY_FILLED',
    });
    expect(r.trades).toEqual([
      {
        id: 77,
        price: '49000.00000000',
        qty: '0.00400000',
        commission: '0.00000400',
        commissionAsset: 'BTC',
      },
    ]);
    expect(r.priorQty).toBe('0.00200000');
    expect(r.executionId).toBe(9001);
  });

  it("names a canceled order by C, the cancel request's id being c", () => {
    const r = fromExecutionReport({
      ...trade,
      x: 'CANCELED',
      X: 'CANCELED',
      c: 'cancel-1',
      C: 'veloz-7-abc',
      t: -1,
      l: '0.00000000',
      L: '0.00000000',
      n: '0',
      N: null,
    })!;
    expect(r.order.clientOrderId).toBe('veloz-7-abc');
    expect(r.trades).toBeUndefined();
  });

  it.each([
    ['no order id', { i: undefined }],
    ['an unknown status', { X: 'SOMETHING' }],
    ['a quantity that is not a decimal', { z: '1e-3' }],
    ['no execution id', { I: 'x' }],
  ])('refuses an event with %s', (_why, over) => {
    expect(fromExecutionReport({ ...trade, ...over })).toBeUndefined();
  });
});

describe('WebSocket API signature', () => {
  it('signs every param but the signature, sorted by name', () => {
    const payload = wsApiSignaturePayload({ timestamp: 1700000000000, apiKey: 'k', recvWindow: 5000 });
    expect(payload).toBe('apiKey=k&recvWindow=5000&timestamp=1700000000000');
    expect(hmacSha256Hex(payload, 's')).toMatch(/^[0-9a-f]{64}$/);
  });
});
