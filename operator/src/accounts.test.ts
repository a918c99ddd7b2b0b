import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { accountId, accountLeaseName, compareDecimal, shareBudget } from './accounts.ts';

const desk = (pairs: number, risk: Record<string, unknown>, orderRateLimit = 10) =>
  ({ spec: { pairs, risk: { maxOpenOrders: 1000, ...risk }, execution: { orderRateLimit } } }) as never;

describe('accountId', () => {
  const key = Buffer.alloc(32, 7);

  it('is a keyed hash of the API key: stable, 128 bits of hex, never the key', () => {
    const id = accountId(key, 'my-api-key');
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(id).toBe(accountId(key, 'my-api-key'));
    expect(id).toBe(createHmac('sha256', key).update('my-api-key').digest('hex').slice(0, 32));
    expect(accountLeaseName(id)).toBe(`veloz-account-${id}`);
    expect(accountLeaseName(id).length).toBeLessThanOrEqual(63);
  });

  it('differs by key (unguessable without the operator’s) and by API key', () => {
    expect(accountId(Buffer.alloc(32, 8), 'my-api-key')).not.toBe(accountId(key, 'my-api-key'));
    expect(accountId(key, 'other-api-key')).not.toBe(accountId(key, 'my-api-key'));
  });
});

describe('compareDecimal', () => {
  it.each([
    ['1', '1.0', 0],
    ['0.5', '0.49999999', 1],
    ['10', '9.99', 1],
    ['2', '10', -1],
  ] as const)('%s vs %s', (a, b, want) => expect(compareDecimal(a, b)).toBe(want));
});

describe('shareBudget', () => {
  it('is the smallest limit of the group over the sum of its pairs; absent means no limit', () => {
    expect(
      shareBudget([
        desk(1, { maxPosition: '3' }, 10),
        desk(2, { maxOpenOrders: 90, maxPosition: '1.5', maxOrderNotional: '5000' }, 30),
      ]),
    ).toEqual({
      pairs: 3,
      risk: { maxOpenOrders: 90, maxPosition: '1.5', maxOrderNotional: '5000' },
      orderRateLimit: 10,
    });
  });

  it('of one desk is its own limits', () => {
    expect(shareBudget([desk(2, { maxPosition: '1' })])).toEqual({
      pairs: 2,
      risk: { maxOpenOrders: 1000, maxPosition: '1', maxOrderNotional: undefined },
      orderRateLimit: 10,
    });
  });
});
