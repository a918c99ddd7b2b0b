import { describe, expect, it } from 'vitest';
import { encodeParams, hmacSha256Hex, signedQuery } from './signing.ts';

// The worked example of Binance's "SIGNED endpoint examples for POST /api/v3/order" (HMAC keys).
const SECRET = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
const EXAMPLE_QUERY =
  'symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559';
const EXAMPLE_SIGNATURE = 'c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71';

describe('Binance HMAC-SHA256 signing', () => {
  it('matches the published example vector', () => {
    expect(hmacSha256Hex(EXAMPLE_QUERY, SECRET)).toBe(EXAMPLE_SIGNATURE);
  });

  it('builds the example request exactly, recvWindow and timestamp last, signature appended', () => {
    const q = signedQuery(
      { symbol: 'LTCBTC', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '1', price: '0.1' },
      SECRET,
      1499827319559,
      5000,
    );
    expect(q).toBe(`${EXAMPLE_QUERY}&signature=${EXAMPLE_SIGNATURE}`);
  });

  it.each([
    [{ a: '1', b: undefined, c: 2 }, 'a=1&c=2'],
    [{ symbols: '["BTCUSDT","ETHUSDT"]' }, 'symbols=%5B%22BTCUSDT%22%2C%22ETHUSDT%22%5D'],
    [{ newClientOrderId: 'veloz-1-x.y:z/_' }, 'newClientOrderId=veloz-1-x.y%3Az%2F_'],
    [{}, ''],
  ])('encodes %j as %s', (params, expected) => {
    expect(encodeParams(params)).toBe(expected);
  });

  it('changes with any byte of the payload or the secret', () => {
    const base = hmacSha256Hex('symbol=BTCUSDT&timestamp=1', 's');
    expect(hmacSha256Hex('symbol=BTCUSDT&timestamp=2', 's')).not.toBe(base);
    expect(hmacSha256Hex('symbol=BTCUSDT&timestamp=1', 't')).not.toBe(base);
  });
});
