import { describe, expect, it } from 'vitest';
import { FakeClock } from '@veloz/testing/fake-clock';
import { defaultInstrument } from '../domain/instrument.ts';
import { InputError } from '../engine/order-input.ts';
import { GuardrailMonitor, parseGuardrails, type StrategyGuardrails } from './guardrails.ts';

const BTC = defaultInstrument('BTCUSDT');
/** BTCUSDT notional units: 2 price + 5 quantity decimals. */
const usdt = (n: number): bigint => BigInt(Math.round(n * 100)) * 100_000n;

function monitor(g: StrategyGuardrails, clock: FakeClock): GuardrailMonitor {
  return new GuardrailMonitor(parseGuardrails(g, BTC), BTC, clock.now());
}

describe('strategy guardrails', () => {
  it('maxLoss: halts when PnL reaches minus the limit, not before', () => {
    const clock = new FakeClock();
    const m = monitor({ maxLoss: '10.00' }, clock);
    expect(m.check(usdt(5), clock.now())).toBeUndefined();
    expect(m.check(usdt(-9.99), clock.now())).toBeUndefined();
    expect(m.check(usdt(-10), clock.now())).toEqual({
      guardrail: 'maxLoss',
      value: '-10.0000000',
      limit: '10.00',
      reason: 'PnL -10.0000000 reached the maxLoss of 10.00',
    });
  });

  it('maxDrawdown: measures the fall from the peak PnL, not from zero', () => {
    const clock = new FakeClock();
    const m = monitor({ maxDrawdown: '5' }, clock);
    expect(m.check(usdt(20), clock.now())).toBeUndefined();
    expect(m.check(usdt(16), clock.now())).toBeUndefined();
    expect(m.check(usdt(15.01), clock.now())).toBeUndefined();
    expect(m.check(usdt(15), clock.now())).toMatchObject({
      guardrail: 'maxDrawdown',
      value: '5.0000000',
      limit: '5',
    });
  });

  it('maxOrdersPerMinute: refuses the order past the limit, and counts a sliding minute', async () => {
    const clock = new FakeClock();
    const m = monitor({ maxOrdersPerMinute: 3 }, clock);
    for (let i = 0; i < 3; i++) {
      expect(m.orderRate(clock.now())).toBeUndefined();
      m.attempt(clock.now(), false);
      await clock.advance(10_000);
    }
    expect(m.orderRate(clock.now())).toMatchObject({
      guardrail: 'maxOrdersPerMinute',
      value: '4',
      limit: '3',
    });
    // Rejected attempts are not orders placed.
    m.attempt(clock.now(), true);
    // A minute after the first order, it no longer counts.
    await clock.advance(30_000);
    expect(m.orderRate(clock.now())).toBeUndefined();
  });

  it('maxRejectRatio: needs minOrders in the window, then halts above the ratio', async () => {
    const clock = new FakeClock();
    const m = monitor({ maxRejectRatio: { ratio: 0.5, windowSeconds: 60, minOrders: 4 } }, clock);
    m.attempt(clock.now(), true);
    m.attempt(clock.now(), true);
    m.attempt(clock.now(), true);
    // Three rejects out of three: too few attempts to judge.
    expect(m.check(0n, clock.now())).toBeUndefined();
    await clock.advance(61_000);
    // The window moved on: those three no longer count.
    m.attempt(clock.now(), false);
    m.attempt(clock.now(), false);
    m.attempt(clock.now(), true);
    m.venueReject(clock.now());
    // 2 of 4 is the ratio itself, not above it.
    expect(m.check(0n, clock.now())).toBeUndefined();
    m.attempt(clock.now(), true);
    expect(m.check(0n, clock.now())).toMatchObject({
      guardrail: 'maxRejectRatio',
      value: '0.6',
      limit: '0.5',
    });
  });

  it('staleMarketDataSeconds: halts after that long without a quote, counting from the start', async () => {
    const clock = new FakeClock();
    const m = monitor({ staleMarketDataSeconds: 30 }, clock);
    await clock.advance(29_000);
    expect(m.check(0n, clock.now())).toBeUndefined();
    m.quote(clock.now());
    await clock.advance(29_900);
    expect(m.check(0n, clock.now())).toBeUndefined();
    await clock.advance(100);
    expect(m.check(0n, clock.now())).toMatchObject({
      guardrail: 'staleMarketDataSeconds',
      value: '30',
      limit: '30',
    });
  });

  it('refuses bad limits, naming the field', () => {
    const bad: Array<[StrategyGuardrails, string]> = [
      [{ maxLoss: '0' }, 'guardrails.maxLoss'],
      [{ maxLoss: '1.123456789' }, 'guardrails.maxLoss'],
      [{ maxDrawdown: '-1' }, 'guardrails.maxDrawdown'],
      [{ maxRejectRatio: { ratio: 1.5, windowSeconds: 60 } }, 'guardrails.maxRejectRatio.ratio'],
      [{ maxRejectRatio: { ratio: 0.5, windowSeconds: 0 } }, 'guardrails.maxRejectRatio.windowSeconds'],
      [{ maxOrdersPerMinute: 0 }, 'guardrails.maxOrdersPerMinute'],
      [{ staleMarketDataSeconds: 1.5 }, 'guardrails.staleMarketDataSeconds'],
    ];
    for (const [g, field] of bad) {
      let err: unknown;
      try {
        parseGuardrails(g, BTC);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(g)).toBeInstanceOf(InputError);
      expect((err as InputError).field).toBe(field);
    }
  });
});
