import { describe, expect, it } from 'vitest';
import { defaultInstrument } from '../domain/instrument.ts';
import { SimMarket } from './sim-market.ts';

describe('SimMarket', () => {
  it('is reproducible: the same seed gives the same quotes', () => {
    const a = new SimMarket(defaultInstrument('BTCUSDT'), 7);
    const b = new SimMarket(defaultInstrument('BTCUSDT'), 7);
    for (let i = 0; i < 200; i++) expect(a.step(i)).toEqual(b.step(i));
  });

  it('differs between seeds and between symbols', () => {
    const a = new SimMarket(defaultInstrument('BTCUSDT'), 7).step(0);
    const b = new SimMarket(defaultInstrument('BTCUSDT'), 8).step(0);
    expect(a.bids[0]!.price).not.toBe(b.bids[0]!.price);
  });

  it('keeps a valid book in whole ticks and steps', () => {
    const inst = defaultInstrument('ETHUSDT');
    const m = new SimMarket(inst, 1);
    for (let i = 0; i < 1000; i++) {
      const q = m.step(i);
      expect(q.bids[0]!.price).toBeLessThan(q.asks[0]!.price);
      for (const l of [...q.bids, ...q.asks]) {
        expect(Number.isInteger(l.price) && l.price > 0).toBe(true);
        expect(Number.isInteger(l.qty) && l.qty > 0).toBe(true);
      }
    }
  });
});
