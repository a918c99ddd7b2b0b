import { describe, expect, it } from 'vitest';
import { pairSource } from './command.ts';

describe('--pair-sources', () => {
  it('restores each pair index from its entry, or from its own index without a list', () => {
    expect(pairSource('2,0,1', 0)).toBe(2);
    expect(pairSource('2,0,1', 2)).toBe(1);
    expect(pairSource(undefined, 3)).toBe(3);
  });

  it('names what is wrong with the list', () => {
    expect(() => pairSource('0,1', 2)).toThrow('--pair-sources 0,1 has no entry for pair 2 (it has 2)');
    expect(() => pairSource('0,x', 0)).toThrow('--pair-sources must be an integer >= 0, got "x"');
  });
});
