// The guardrails inside the strategy manager, on an in-process engine whose clock is fake: the
// order-rate guardrail stops a grid before its order past the limit, the timer's check catches
// stale market data, and a halt from the WAL holds across a restart.
import { afterEach, describe, expect, it } from 'vitest';
import { startFixture, type Fixture } from '@veloz/testing/engine-fixture';
import { FakeClock } from '@veloz/testing/fake-clock';
import type { StrategySpec } from './types.ts';

const spec = (guardrails: StrategySpec['guardrails'], version = 1): StrategySpec => ({
  name: 'grid',
  type: 'grid',
  symbol: 'BTCUSDT',
  params: { levels: 5, spacing: '10.00', quantity: '0.00100' },
  version,
  enabled: true,
  risk: {},
  guardrails,
});

describe('strategy manager guardrails', () => {
  let fx: Fixture | undefined;
  afterEach(async () => {
    await fx?.close();
    fx = undefined;
  });

  it('halts a grid instead of placing its order past maxOrdersPerMinute, and cancels the rest', async () => {
    const clock = new FakeClock();
    fx = await startFixture({}, undefined, () => clock.now());
    await fx.strategies.upsert(spec({ maxOrdersPerMinute: 4 }));
    fx.engine.stepMarket('BTCUSDT');
    const v = fx.strategies.get('grid');
    expect(v.state).toBe('halted');
    expect(v.halt).toMatchObject({ guardrail: 'maxOrdersPerMinute', value: '5', limit: '4', version: 1 });
    expect(v.ordersPlaced).toBe(4);
    expect(v.openOrders).toBe(0);
    // More quotes place nothing.
    for (let i = 0; i < 5; i++) fx.engine.stepMarket('BTCUSDT');
    expect(fx.strategies.get('grid').ordersPlaced).toBe(4);
  });

  it('halts on stale market data from the periodic check, and the halt outlives a restart', async () => {
    const clock = new FakeClock();
    fx = await startFixture({}, undefined, () => clock.now());
    await fx.strategies.upsert(spec({ staleMarketDataSeconds: 30 }));
    fx.engine.stepMarket('BTCUSDT');
    expect(fx.strategies.get('grid').openOrders).toBeGreaterThan(0);
    await clock.advance(29_000, 1000);
    fx.strategies.checkGuardrails();
    expect(fx.strategies.get('grid').state).toBe('running');
    await clock.advance(1_000, 1000);
    fx.strategies.checkGuardrails();
    const v = fx.strategies.get('grid');
    expect(v.state).toBe('halted');
    expect(v.halt).toMatchObject({ guardrail: 'staleMarketDataSeconds', value: '30', limit: '30' });
    expect(v.openOrders).toBe(0);
    await fx.engine.durable(() => undefined);
    fx = await fx.restart();
    expect(fx.strategies.get('grid').halt).toEqual(v.halt);
    // The same version pushed again keeps it halted.
    const again = await fx.strategies.upsert(spec({ staleMarketDataSeconds: 30 }));
    expect(again.view.state).toBe('halted');
  });
});
