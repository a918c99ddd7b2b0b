import type { Condition } from '@veloz/api/generated/types';
import { describe, expect, it } from 'vitest';
import { WrittenStatus } from './written-status.ts';

const desk = (uid = 'u1') => ({ metadata: { namespace: 'ns', name: 'desk', uid } });
const c = (type: string, status: 'True' | 'False', at: string): Condition => ({
  type,
  status,
  reason: status === 'True' ? 'Yes' : 'No',
  message: '',
  lastTransitionTime: `2026-11-21T10:00:${at}Z`,
});

describe('WrittenStatus', () => {
  it('takes the cached conditions until it has written', () => {
    const w = new WrittenStatus();
    const cached = [c('PairLost', 'True', '01')];
    expect(w.before(desk(), cached)).toBe(cached);
    expect(w.changed(desk(), { conditions: cached }, { conditions: cached })).toBe(false);
  });

  it('per condition, the later transition of what it wrote and what the cache shows', () => {
    const w = new WrittenStatus();
    w.wrote(desk(), { conditions: [c('PairLost', 'False', '05'), c('Ready', 'True', '02')] });
    const cached = [c('PairLost', 'True', '01'), c('Ready', 'False', '09'), c('Degraded', 'False', '01')];
    expect(w.before(desk(), cached)).toEqual([
      c('PairLost', 'False', '05'),
      c('Ready', 'False', '09'),
      c('Degraded', 'False', '01'),
    ]);
    expect(w.before(desk(), undefined)).toEqual([c('PairLost', 'False', '05'), c('Ready', 'True', '02')]);
  });

  it('writes a status that the cache shows but differs from the one it last wrote', () => {
    const w = new WrittenStatus();
    const old = { conditions: [c('PairLost', 'False', '01')] };
    const written = { conditions: [c('PairLost', 'True', '02')] };
    w.wrote(desk(), written);
    expect(w.changed(desk(), old, old)).toBe(true);
    expect(w.changed(desk(), written, old)).toBe(true);
    expect(w.changed(desk(), written, written)).toBe(false);
  });

  it('forgets a deleted desk, and does not take one recreated under its name for it', () => {
    const w = new WrittenStatus();
    const cached = [c('PairLost', 'False', '01')];
    w.wrote(desk(), { conditions: [c('PairLost', 'True', '02')] });
    expect(w.before(desk('u2'), cached)).toBe(cached);
    w.forget('ns', 'desk');
    expect(w.before(desk(), cached)).toBe(cached);
  });
});
