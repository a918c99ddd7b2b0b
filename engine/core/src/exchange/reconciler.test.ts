// The reconciler's fail-closed book-keeping, with the exchange's answers in hand: an open
// difference halts once and stays until trading is resumed; a resume acknowledges it; a resume
// that lands while a run is asking is not undone by that run's stale answers.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RecordType } from '@veloz/wal/format';
import type { OrderRecord } from '@veloz/wal/payloads';
import { defaultInstrument } from '../domain/instrument.ts';
import { EngineState } from '../engine/state.ts';
import { createEngineMetrics } from '../metrics/engine-metrics.ts';
import type { BinanceRest } from './binance-rest.ts';
import { createExchangeMetrics } from './metrics.ts';
import { Reconciler } from './reconciler.ts';
import type { VenueHost } from './venue.ts';

const BTC = defaultInstrument('BTCUSDT');

/** An account holding 0.01 BTC bought through the WAL, and an exchange whose BTC balance we set. */
function setup() {
  const state = new EngineState(1000);
  let seq = 0;
  const commit = (rec: OrderRecord, fill?: unknown) => {
    void fill;
    state.check(rec);
    return state.apply(rec, ++seq, 1_000);
  };
  commit({
    type: RecordType.OrderNew,
    data: {
      orderId: 1,
      clientOrderId: 'c1',
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'MARKET',
      timeInForce: 'IOC',
      price: 0,
      quantity: 1000,
      strategy: '',
    },
  });
  commit({ type: RecordType.OrderFill, data: { orderId: 1, quantity: 1000, price: 5_000_000, tradeId: 7 } });
  const world = {
    btc: '0.00100000',
    halted: false,
    reasons: [] as string[],
    /** When set, the account answer waits for it. */
    gate: undefined as Promise<void> | undefined,
  };
  const rest = {
    signed: async (_m: string, path: string, _p: unknown, parse: (b: unknown) => unknown) => {
      if (path === '/api/v3/account') {
        const btc = world.btc;
        await world.gate;
        return parse({
          canTrade: true,
          balances: [{ asset: 'BTC', free: btc, locked: '0.00000000' }],
        });
      }
      return parse([]);
    },
  } as unknown as BinanceRest;
  const host: VenueHost = {
    log: pino({ level: 'silent' }),
    metrics: createEngineMetrics(new Registry()),
    state,
    instruments: new Map([[BTC.symbol, BTC]]),
    commit,
    waitDurable: async () => undefined,
    publish: () => undefined,
    halt: (reason) => {
      world.halted = true;
      world.reasons.push(reason);
    },
    halted: () => world.halted,
  };
  const r = new Reconciler({
    rest,
    host,
    venue: { reconcileOrder: async () => undefined },
    metrics: createExchangeMetrics(new Registry()),
    intervalMs: 0,
  });
  return { r, world };
}

describe('Reconciler', () => {
  it('halts once on a difference it cannot repair and keeps it open until trading is resumed', async () => {
    const { r, world } = setup();
    await r.run();
    expect(world.reasons).toEqual([
      "exchange out of sync: the WAL's BTCUSDT position needs 0.01 BTC, the exchange holds 0.001",
    ]);
    expect(r.report()).toMatchObject({ inSync: false, halted: true, runs: 1 });
    // Still short: not halted twice, the difference is not listed twice.
    await r.run();
    expect(world.reasons).toHaveLength(1);
    expect(r.report().open).toHaveLength(1);
    // Fixed but not resumed: still open (only a person acknowledges it).
    world.btc = '1.00000000';
    await r.run();
    expect(r.report()).toMatchObject({ inSync: false, halted: true });
    world.halted = false;
    await r.run();
    expect(r.report()).toMatchObject({ inSync: true, halted: false, open: [] });
  });

  it('halts again after a resume when the difference is still there', async () => {
    const { r, world } = setup();
    await r.run();
    world.halted = false;
    await r.run();
    expect(world.reasons).toHaveLength(2);
    expect(r.report()).toMatchObject({ inSync: false, halted: true });
  });

  it('does not undo a resume that lands while a run is asking', async () => {
    const { r, world } = setup();
    await r.run();
    let release!: () => void;
    world.gate = new Promise((resolve) => (release = resolve));
    const running = r.run();
    await new Promise((resolve) => setTimeout(resolve, 10));
    // The account is fixed and trading resumed after this run read the old balance.
    world.btc = '1.00000000';
    world.halted = false;
    release();
    await running;
    expect(world.halted).toBe(false);
    expect(world.reasons).toHaveLength(1);
    world.gate = undefined;
    await r.run();
    expect(r.report()).toMatchObject({ inSync: true, halted: false, open: [] });
  });
});
