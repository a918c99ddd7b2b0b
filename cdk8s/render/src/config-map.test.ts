import { describe, expect, it } from 'vitest';
import { desk } from '@veloz/testing/desk';
import { configData } from './config.ts';
import { configMap } from './config-map.ts';

describe('configMap', () => {
  it('carries the VELOZ_* settings of the spec', () => {
    const d = desk('d1', { market: { symbols: ['ETHUSDT'] } });
    const cm = configMap(d);
    expect(cm.metadata.name).toBe('d1-config');
    expect(cm['data']).toEqual(configData(d.spec));
    expect((cm['data'] as Record<string, string>)['VELOZ_MARKET_SYMBOL']).toBe('ETHUSDT');
  });
});
