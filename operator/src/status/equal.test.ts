import { describe, expect, it } from 'vitest';
import { sameState } from './equal.ts';

describe('sameState', () => {
  it.each([
    [{ a: 1, b: { c: [1, { d: 2, e: 3 }] } }, { b: { c: [1, { e: 3, d: 2 }] }, a: 1 }, true],
    [{ a: 1, b: undefined }, { a: 1 }, true],
    [{ a: [1, 2] }, { a: [2, 1] }, false],
    [{ a: '1' }, { a: 1 }, false],
    [undefined, {}, false],
  ])('%j vs %j -> %s', (a, b, same) => {
    expect(sameState(a, b)).toBe(same);
  });
});
