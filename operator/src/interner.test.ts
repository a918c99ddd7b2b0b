import { describe, expect, it } from 'vitest';
import { Interner } from './interner.ts';

// Strings made at run time, as JSON.parse makes them: equal, but not the same string in memory.
const fresh = (s: string) => JSON.parse(JSON.stringify(s)) as string;

describe('Interner', () => {
  it('returns one shared, frozen record for equal labels, with their values', () => {
    const i = new Interner();
    const a = i.record({ app: fresh('desk-1'), part: 'engine' });
    const b = i.record({ app: fresh('desk-1'), part: 'engine' });
    expect(b).toBe(a);
    expect(a).toEqual({ app: 'desk-1', part: 'engine' });
    expect(Object.isFrozen(a)).toBe(true);
    expect(i.record({ app: 'desk-2', part: 'engine' })).not.toBe(a);
    expect(i.record(undefined)).toBeUndefined();
  });

  it('shares a list of owner references, each frozen, equal to what was given', () => {
    const i = new Interner();
    const refs = () => [
      { apiVersion: 'veloz.io/v1alpha1', kind: 'VelozDeployment', name: 'd', uid: 'u', controller: true },
    ];
    const a = i.list(refs());
    expect(i.list(refs())).toBe(a);
    expect(a).toEqual(refs());
    expect(Object.isFrozen(a) && Object.isFrozen(a[0])).toBe(true);
    expect(i.list(undefined)).toBeUndefined();
  });

  it('forgets everything at its limit, and interns again from there', () => {
    const i = new Interner(4);
    i.string('a');
    i.string('b');
    i.record({ c: 'd' });
    expect(i.size).toBe(4);
    i.string('e');
    expect(i.size).toBe(1);
    const r = i.record({ x: 'y' });
    expect(i.record({ x: 'y' })).toBe(r);
  });
});
