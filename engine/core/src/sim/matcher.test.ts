import { describe, expect, it } from 'vitest';
import type { Order } from '../domain/order.ts';
import type { Quote } from '../market/book.ts';
import { testOrder } from '@veloz/testing/orders';
import { SimMatcher } from './matcher.ts';

function quote(
  bids: Array<[number, number]>,
  asks: Array<[number, number]>,
  trades: Quote['trades'] = [],
): Quote {
  return {
    symbol: 'X',
    bids: bids.map(([price, qty]) => ({ price, qty })),
    asks: asks.map(([price, qty]) => ({ price, qty })),
    trades,
    seq: 1,
    time: 0,
  };
}

let nextId = 1;
function order(p: Partial<Order>): Order {
  return testOrder({ orderId: nextId++, clientOrderId: 'c', symbol: 'X', price: 100, ...p });
}

const book = quote(
  [
    [99, 5],
    [98, 5],
  ],
  [
    [101, 5],
    [102, 5],
  ],
);

describe('SimMatcher.submit (taker)', () => {
  it.each([
    ['limit buy below the ask rests', { side: 'BUY', price: 100 }, [{ kind: 'accepted' }]],
    [
      'limit buy through two levels fills at each level price',
      { side: 'BUY', price: 102, quantity: 8 },
      [
        { kind: 'fill', qty: 5, price: 101 },
        { kind: 'fill', qty: 3, price: 102 },
      ],
    ],
    [
      'limit buy larger than the crossing depth fills then rests',
      { side: 'BUY', price: 101, quantity: 8 },
      [{ kind: 'fill', qty: 5, price: 101 }],
    ],
    [
      'IOC remainder expires',
      { side: 'BUY', price: 101, quantity: 8, timeInForce: 'IOC' },
      [{ kind: 'fill', qty: 5, price: 101 }, { kind: 'expired' }],
    ],
    [
      'market sell walks the bids',
      { side: 'SELL', type: 'MARKET', price: 0, quantity: 7, timeInForce: 'IOC' },
      [
        { kind: 'fill', qty: 5, price: 99 },
        { kind: 'fill', qty: 2, price: 98 },
      ],
    ],
    [
      'market order beyond all depth expires the rest',
      { side: 'BUY', type: 'MARKET', price: 0, quantity: 20, timeInForce: 'IOC' },
      [{ kind: 'fill', qty: 5, price: 101 }, { kind: 'fill', qty: 5, price: 102 }, { kind: 'expired' }],
    ],
  ] as const)('%s', (_name, o, expected) => {
    const m = new SimMatcher();
    m.onQuote(book);
    const events = m.submit(order(o));
    expect(events).toMatchObject(expected);
  });

  it('does not reuse liquidity already taken in the same quote', () => {
    const m = new SimMatcher();
    m.onQuote(book);
    expect(m.submit(order({ side: 'BUY', price: 101, quantity: 4, timeInForce: 'IOC' }))).toMatchObject([
      { kind: 'fill', qty: 4 },
    ]);
    expect(m.submit(order({ side: 'BUY', price: 101, quantity: 4, timeInForce: 'IOC' }))).toMatchObject([
      { kind: 'fill', qty: 1 },
      { kind: 'expired' },
    ]);
  });
});

describe('SimMatcher.onQuote (maker)', () => {
  it('fills resting orders in price-time priority at their own prices', () => {
    const m = new SimMatcher();
    m.onQuote(book);
    const a = order({ side: 'BUY', price: 100, quantity: 4 });
    const b = order({ side: 'BUY', price: 100, quantity: 4 });
    const c = order({ side: 'BUY', price: 100.5 * 2, quantity: 1 }); // 201: best price, but far above
    m.submit(a);
    m.submit(b);
    expect(m.submit(c)).toMatchObject([{ kind: 'fill', qty: 1, price: 101 }]);
    // The market drops: asks at 100 and 99 with 6 units in all reach our bids at 100.
    const events = m.onQuote(
      quote(
        [[97, 5]],
        [
          [99, 3],
          [100, 3],
        ],
      ),
    );
    expect(events).toEqual([
      { kind: 'fill', orderId: a.orderId, qty: 4, price: 100 },
      { kind: 'fill', orderId: b.orderId, qty: 2, price: 100 },
    ]);
  });

  it('counts market trades printing through a resting price', () => {
    const m = new SimMatcher();
    m.onQuote(book);
    const s = order({ side: 'SELL', price: 105, quantity: 3 });
    m.submit(s);
    const events = m.onQuote(quote([[99, 5]], [[101, 5]], [{ price: 106, qty: 2, side: 'BUY' }]));
    expect(events).toEqual([{ kind: 'fill', orderId: s.orderId, qty: 2, price: 105 }]);
  });

  it('forgets removed orders', () => {
    const m = new SimMatcher();
    m.onQuote(book);
    const a = order({ side: 'BUY', price: 100 });
    m.submit(a);
    m.remove('X', a.orderId);
    expect(m.onQuote(quote([[90, 5]], [[95, 50]]))).toEqual([]);
  });
});
