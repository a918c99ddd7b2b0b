import { describe, expect, it } from 'vitest';
import {
  deskId,
  EXCHANGE_CLIENT_ORDER_ID,
  formatClientOrderId,
  isDeskPairOrder,
  parseClientOrderId,
  strategyTag,
} from './client-order-id.ts';

describe('client order ids', () => {
  it('fit Binance at the largest order id, pair and time they allow', () => {
    const cid = formatClientOrderId({
      desk: deskId('a-very-long-namespace-name', 'a-very-long-deployment-name'),
      pair: 999,
      strategy: 'momentum-btc',
      orderId: 36 ** 8 - 1,
      createdAt: Date.UTC(2058, 0, 1),
    });
    expect(cid).toHaveLength(36);
    expect(cid).toMatch(EXCHANGE_CLIENT_ORDER_ID);
  });

  it('read back what they were made of', () => {
    const cid = formatClientOrderId({
      desk: 'k3f9a2',
      pair: 2,
      strategy: 'grid-1',
      orderId: 1234,
      createdAt: 1_764_000_000_000,
    });
    expect(parseClientOrderId(cid)).toEqual({
      desk: 'k3f9a2',
      pair: 2,
      tag: strategyTag('grid-1'),
      orderId: 1234,
      createdAt: 1_764_000_000_000,
    });
    const api = formatClientOrderId({ desk: 'k3f9a2', pair: 0, strategy: '', orderId: 1, createdAt: 5 });
    expect(api).toBe('vz-k3f9a2-0-_-1-5');
    expect(parseClientOrderId(api)?.tag).toBe('');
  });

  it('tell the desk and the pair apart', () => {
    const cid = formatClientOrderId({ desk: 'abc', pair: 1, strategy: '', orderId: 7, createdAt: 9 });
    expect(isDeskPairOrder(cid, { desk: 'abc', pair: 1 })).toBe(true);
    expect(isDeskPairOrder(cid, { desk: 'abc', pair: 0 })).toBe(false);
    expect(isDeskPairOrder(cid, { desk: 'abd', pair: 1 })).toBe(false);
    expect(isDeskPairOrder('veloz-7-abc', { desk: 'abc', pair: 1 })).toBe(false);
    expect(isDeskPairOrder('my-own-id', { desk: 'abc', pair: 1 })).toBe(false);
  });

  it('derive stable desk ids and tags', () => {
    expect(deskId('prod', 'desk')).toBe(deskId('prod', 'desk'));
    expect(deskId('prod', 'desk')).not.toBe(deskId('staging', 'desk'));
    expect(deskId('prod', 'desk')).toMatch(/^[a-z0-9]{6}$/);
    expect(strategyTag('grid')).toMatch(/^[a-z0-9]{4}$/);
  });

  it('refuse what does not fit', () => {
    expect(() =>
      formatClientOrderId({ desk: 'TOO-LONG', pair: 0, strategy: '', orderId: 1, createdAt: 1 }),
    ).toThrow(/desk id/);
    expect(() =>
      formatClientOrderId({ desk: 'a', pair: 1000, strategy: '', orderId: 1, createdAt: 1 }),
    ).toThrow(/pair/);
  });
});
