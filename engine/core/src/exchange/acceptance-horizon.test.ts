import { describe, expect, it } from 'vitest';
import { acceptanceHorizon, recoveredHorizon } from './acceptance-horizon.ts';

const o = { recvWindow: 5000, marginMs: 2000 };

describe('acceptance horizon', () => {
  it('is the signed timestamp + recvWindow + the margin, on the exchange clock', () => {
    expect(acceptanceHorizon(1_000_000, o)).toBe(1_007_000);
  });

  it('bounds an UNKNOWN order a previous process left by the time of its UNKNOWN record', () => {
    // Local clock 300 ms behind the exchange.
    expect(recoveredHorizon({ status: 'UNKNOWN', updatedAt: 50_000 }, 90_000, 300, o)).toBe(57_300);
  });

  it('bounds a SUBMITTED order (maybe in flight when the process died) by this start', () => {
    expect(recoveredHorizon({ status: 'SUBMITTED', updatedAt: 50_000 }, 90_000, 300, o)).toBe(97_300);
    expect(recoveredHorizon({ status: 'PENDING_CANCEL', updatedAt: 50_000 }, 90_000, 0, o)).toBe(97_000);
  });
});
