import { describe, expect, it } from 'vitest';
import { ApiKeys, KeyRateLimiter, presentedKey } from './auth.ts';

describe('gateway authentication', () => {
  const keys = new ApiKeys(['alpha-key', 'beta-key']);

  it.each([
    ['alpha-key', 'key0'],
    ['beta-key', 'key1'],
    ['alpha-ke', undefined],
    ['alpha-keyy', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('matches %j as %j', (presented, id) => expect(keys.match(presented)).toBe(id));

  it.each([
    [{ authorization: 'Bearer abc' }, 'abc'],
    [{ authorization: 'bearer   abc  ' }, 'abc'],
    [{ authorization: 'Basic abc' }, undefined],
    [{ 'x-api-key': 'xyz' }, 'xyz'],
    [{ authorization: 'Basic abc', 'x-api-key': 'xyz' }, 'xyz'],
    [{}, undefined],
  ])('reads the key from %j', (headers, key) => expect(presentedKey(headers)).toBe(key));

  it('refuses to run without keys', () => {
    expect(() => new ApiKeys([])).toThrow(/at least one API key/);
  });

  it('gives each key its own bucket, refilled over time', () => {
    let t = 0;
    const rl = new KeyRateLimiter(2, () => t);
    expect([rl.take('key0'), rl.take('key0')]).toEqual([0, 0]);
    expect(rl.take('key0')).toBe(500);
    expect(rl.take('key1')).toBe(0);
    t += 500;
    expect(rl.take('key0')).toBe(0);
  });
});
