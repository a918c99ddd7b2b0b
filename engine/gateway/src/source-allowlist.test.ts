import { describe, expect, it } from 'vitest';
import { SourceAllowlist } from './source-allowlist.ts';

describe('SourceAllowlist', () => {
  const list = new SourceAllowlist(['10.1.0.0/16', '203.0.113.7/32', '2001:db8::/32']);

  it.each([
    ['10.1.2.3', true],
    ['10.2.0.1', false],
    ['::ffff:10.1.200.1', true],
    ['::ffff:10.9.0.1', false],
    ['203.0.113.7', true],
    ['203.0.113.8', false],
    ['2001:db8::1', true],
    ['2001:db9::1', false],
    ['::1', false],
    [undefined, false],
  ] as const)('%s -> %s', (address, allowed) => {
    expect(list.allows(address)).toBe(allowed);
  });

  it('refuses what is not a CIDR, naming it', () => {
    expect(() => new SourceAllowlist(['10.0.0.0/33'])).toThrow('not a CIDR: "10.0.0.0/33"');
  });
});
