// The simulated market: a seeded random walk in whole ticks with a few levels of depth.
// Reproducible: the same seed and symbol give the same sequence of quotes.
import type { Instrument } from '../domain/instrument.ts';
import type { Level, Quote } from './book.ts';
import { hashSeed, mulberry32 } from './prng.ts';

const DEPTH = 5;

export class SimMarket {
  readonly instrument: Instrument;
  private readonly rand: () => number;
  private midTicks: number;
  private seq = 0;
  private readonly spreadTicks: number;
  private readonly volTicks: number;
  private readonly maxLevelQty: number;

  constructor(instrument: Instrument, seed: number, startPrice?: number) {
    this.instrument = instrument;
    this.rand = mulberry32(hashSeed(seed, instrument.symbol));
    const start = startPrice && startPrice > 0 ? startPrice : instrument.simStartPrice;
    this.midTicks = Math.max(1, Math.round(start / instrument.tickSize));
    // About 1 bp spread and 2 bp volatility per step, at least one tick.
    this.spreadTicks = Math.max(1, Math.round(this.midTicks / 10_000));
    this.volTicks = Math.max(1, Math.round(this.midTicks / 5_000));
    // Depth of roughly 20k quote units per level.
    const notionalPerLevel = 20_000n * 10n ** BigInt(instrument.priceDecimals + instrument.qtyDecimals);
    this.maxLevelQty = Math.max(
      instrument.stepSize,
      Number(notionalPerLevel / BigInt(start > 0 ? start : 1) / BigInt(instrument.stepSize)) *
        instrument.stepSize,
    );
  }

  /** A standard normal draw (Box-Muller). */
  private gauss(): number {
    const u = 1 - this.rand();
    const v = this.rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  private levelQty(): number {
    const steps = Math.max(1, Math.floor((this.rand() * this.maxLevelQty) / this.instrument.stepSize));
    return steps * this.instrument.stepSize;
  }

  /** Advances the market one step and returns the new quote. */
  step(time: number): Quote {
    const move = Math.round(this.gauss() * this.volTicks);
    this.midTicks = Math.max(this.spreadTicks + 1, this.midTicks + move);
    const tick = this.instrument.tickSize;
    const bestBid = (this.midTicks - Math.ceil(this.spreadTicks / 2)) * tick;
    const bestAsk = (this.midTicks + Math.ceil(this.spreadTicks / 2)) * tick;
    const bids: Level[] = [];
    const asks: Level[] = [];
    for (let i = 0; i < DEPTH; i++) {
      if (bestBid - i * tick > 0) bids.push({ price: bestBid - i * tick, qty: this.levelQty() });
      asks.push({ price: bestAsk + i * tick, qty: this.levelQty() });
    }
    const trades: Quote['trades'] = [];
    if (this.rand() < 0.5) {
      const side = this.rand() < 0.5 ? 'BUY' : 'SELL';
      trades.push({ price: side === 'BUY' ? bestAsk : bestBid, qty: this.levelQty(), side });
    }
    return { symbol: this.instrument.symbol, bids, asks, trades, seq: ++this.seq, time };
  }
}
