import { describe, expect, it } from 'vitest';
import type { VelozStrategy } from '@veloz/api/generated/types';
import { durationSeconds, strategyBody } from './strategy-body.ts';

const cr = (spec: Partial<VelozStrategy['spec']>): VelozStrategy => ({
  apiVersion: 'veloz.io/v1alpha1',
  kind: 'VelozStrategy',
  metadata: { name: 'grid', namespace: 'ns', generation: 7 },
  spec: {
    deploymentRef: { name: 'desk' },
    type: 'grid',
    symbol: 'BTCUSDT',
    params: { spacing: '10', quantity: '0.001' },
    enabled: true,
    ...spec,
  },
});

describe('strategyBody', () => {
  it('carries the generation as the version, and no guardrails or resume when the CR has none', () => {
    expect(strategyBody(cr({}))).toEqual({
      type: 'grid',
      symbol: 'BTCUSDT',
      version: 7,
      enabled: true,
      params: { spacing: '10', quantity: '0.001' },
      risk: {},
    });
  });

  it('turns the reject window into seconds and resumeAfter into milliseconds', () => {
    const body = strategyBody(
      cr({
        guardrails: {
          maxLoss: '100',
          maxRejectRatio: { ratio: 0.25, window: '1h30m' },
          maxOrdersPerMinute: 60,
          staleMarketDataSeconds: 30,
        },
        resumeAfter: '2026-12-04T18:00:00Z',
      }),
    );
    expect(body.guardrails).toEqual({
      maxLoss: '100',
      maxRejectRatio: { ratio: 0.25, windowSeconds: 5400 },
      maxOrdersPerMinute: 60,
      staleMarketDataSeconds: 30,
    });
    expect(body.resumeAfter).toBe(Date.UTC(2026, 11, 4, 18));
  });

  it('reads durations as the CRD admits them, and names anything else', () => {
    expect(durationSeconds('45s')).toBe(45);
    expect(durationSeconds('5m')).toBe(300);
    expect(durationSeconds('24h')).toBe(86400);
    expect(() => durationSeconds('5 minutes')).toThrow('"5 minutes" is not a duration');
  });
});
