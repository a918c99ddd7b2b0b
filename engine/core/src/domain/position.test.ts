import { describe, expect, it } from 'vitest';
import type { Side } from './order.ts';
import { Position } from './position.ts';

type Fill = [Side, number, number];

interface Case {
  name: string;
  fills: Fill[];
  net: number;
  realized: bigint;
  lots: Array<{ qty: number; price: number }>;
  mark: number;
  unrealized: bigint;
  bought: number;
  sold: number;
}

const CASES: Case[] = [
  {
    name: 'flat',
    fills: [],
    net: 0,
    realized: 0n,
    lots: [],
    mark: 100,
    unrealized: 0n,
    bought: 0,
    sold: 0,
  },
  {
    name: 'long, marked up',
    fills: [['BUY', 10, 100]],
    net: 10,
    realized: 0n,
    lots: [{ qty: 10, price: 100 }],
    mark: 120,
    unrealized: 200n,
    bought: 10,
    sold: 0,
  },
  {
    name: 'long, marked down',
    fills: [['BUY', 10, 100]],
    net: 10,
    realized: 0n,
    lots: [{ qty: 10, price: 100 }],
    mark: 90,
    unrealized: -100n,
    bought: 10,
    sold: 0,
  },
  {
    name: 'short, marked down is a gain',
    fills: [['SELL', 4, 200]],
    net: -4,
    realized: 0n,
    lots: [{ qty: 4, price: 200 }],
    mark: 150,
    unrealized: 200n,
    bought: 0,
    sold: 4,
  },
  {
    name: 'short, marked up is a loss',
    fills: [['SELL', 4, 200]],
    net: -4,
    realized: 0n,
    lots: [{ qty: 4, price: 200 }],
    mark: 210,
    unrealized: -40n,
    bought: 0,
    sold: 4,
  },
  {
    name: 'long closed in full at a profit',
    fills: [
      ['BUY', 10, 100],
      ['SELL', 10, 110],
    ],
    net: 0,
    realized: 100n,
    lots: [],
    mark: 500,
    unrealized: 0n,
    bought: 10,
    sold: 10,
  },
  {
    name: 'short closed in full at a loss',
    fills: [
      ['SELL', 3, 100],
      ['BUY', 3, 130],
    ],
    net: 0,
    realized: -90n,
    lots: [],
    mark: 1,
    unrealized: 0n,
    bought: 3,
    sold: 3,
  },
  {
    name: 'partial closes take the oldest lot first (FIFO)',
    fills: [
      ['BUY', 5, 100],
      ['BUY', 5, 200],
      ['SELL', 3, 150],
      ['SELL', 4, 150],
    ],
    net: 3,
    // 5 @ 100 closed at 150 (+250), then 2 @ 200 closed at 150 (-100).
    realized: 150n,
    lots: [{ qty: 3, price: 200 }],
    mark: 210,
    unrealized: 30n,
    bought: 10,
    sold: 7,
  },
  {
    name: 'short partial closes are FIFO too',
    fills: [
      ['SELL', 2, 300],
      ['SELL', 2, 100],
      ['BUY', 3, 200],
    ],
    net: -1,
    // 2 @ 300 covered at 200 (+200), 1 @ 100 covered at 200 (-100).
    realized: 100n,
    lots: [{ qty: 1, price: 100 }],
    mark: 90,
    unrealized: 10n,
    bought: 3,
    sold: 4,
  },
  {
    name: 'long flips to short through zero',
    fills: [
      ['BUY', 5, 100],
      ['SELL', 8, 110],
    ],
    net: -3,
    realized: 50n,
    lots: [{ qty: 3, price: 110 }],
    mark: 100,
    unrealized: 30n,
    bought: 5,
    sold: 8,
  },
  {
    name: 'short flips to long through zero across several lots',
    fills: [
      ['SELL', 1, 100],
      ['SELL', 2, 90],
      ['BUY', 5, 80],
    ],
    net: 2,
    realized: 20n + 20n,
    lots: [{ qty: 2, price: 80 }],
    mark: 85,
    unrealized: 10n,
    bought: 5,
    sold: 3,
  },
  {
    name: 'adding to a long keeps every lot',
    fills: [
      ['BUY', 1, 100],
      ['BUY', 2, 110],
      ['BUY', 3, 120],
    ],
    net: 6,
    realized: 0n,
    lots: [
      { qty: 1, price: 100 },
      { qty: 2, price: 110 },
      { qty: 3, price: 120 },
    ],
    mark: 110,
    unrealized: 10n + 0n - 30n,
    bought: 6,
    sold: 0,
  },
  {
    name: 'notional beyond 2^53 stays exact',
    fills: [
      ['BUY', 2 ** 40, 2 ** 30],
      ['SELL', 2 ** 40, 2 ** 30 + 3],
    ],
    net: 0,
    realized: 3n * 2n ** 40n,
    lots: [],
    mark: 0,
    unrealized: 0n,
    bought: 2 ** 40,
    sold: 2 ** 40,
  },
];

describe('Position', () => {
  it.each(CASES)('$name', (c) => {
    const p = new Position();
    for (const [side, qty, price] of c.fills) p.applyFill(side, qty, price);
    expect(p.net).toBe(c.net);
    expect(p.realized).toBe(c.realized);
    expect(p.unrealized(c.mark)).toBe(c.unrealized);
    expect(p.bought).toBe(c.bought);
    expect(p.sold).toBe(c.sold);
    const snap = p.snapshot();
    expect(snap.lots).toEqual(c.lots);
    expect(snap.realized).toBe(c.realized.toString());
    expect(p.openCost()).toBe(c.lots.reduce((s, l) => s + BigInt(l.qty) * BigInt(l.price), 0n));
    // |net| always equals the open lots.
    expect(c.lots.reduce((s, l) => s + l.qty, 0)).toBe(Math.abs(c.net));
  });

  it.each(CASES)('snapshot/restore of "$name" behaves like the original', (c) => {
    const p = new Position();
    for (const [side, qty, price] of c.fills) p.applyFill(side, qty, price);
    const r = Position.restore(JSON.parse(JSON.stringify(p.snapshot())) as ReturnType<Position['snapshot']>);
    expect(r.snapshot()).toEqual(p.snapshot());
    for (const q of [p, r]) {
      q.applyFill('SELL', 7, 105);
      q.applyFill('BUY', 3, 95);
    }
    expect(r.snapshot()).toEqual(p.snapshot());
    expect(r.unrealized(101)).toBe(p.unrealized(101));
  });

  it('compacts consumed lots without changing the result', () => {
    const p = new Position();
    let realized = 0n;
    for (let i = 0; i < 500; i++) {
      p.applyFill('BUY', 1, 100 + i);
      if (i % 2 === 1) {
        // Sells close the two oldest open lots; FIFO means lot i-1 and i are the only ones open.
        p.applyFill('SELL', 2, 1000);
        realized += BigInt(1000 - (100 + i - 1)) + BigInt(1000 - (100 + i));
      }
    }
    expect(p.net).toBe(0);
    expect(p.realized).toBe(realized);
    expect(p.snapshot().lots).toEqual([]);
    p.applyFill('SELL', 1, 50);
    expect(p.snapshot().lots).toEqual([{ qty: 1, price: 50 }]);
  });
});
