import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '../kube/resources.ts';
import { Indexer } from './indexer.ts';

const obj = (name: string, team?: string, ...refs: string[]): KubernetesObject => ({
  metadata: { name, namespace: 'ns', ...(team ? { labels: { team } } : {}) },
  spec: { refs },
});
const refs = (o: KubernetesObject) => (o['spec'] as { refs: string[] }).refs;
const names = (os: KubernetesObject[]) => os.map((o) => o.metadata?.name).sort();

describe('Indexer', () => {
  it('finds objects by each value of each index, and follows updates and deletions', () => {
    const s = new Indexer<KubernetesObject>();
    s.addIndex('team', (o) => (o.metadata?.labels?.['team'] ? [o.metadata.labels['team']] : []));
    s.addIndex('refs', refs);
    s.put('ns/a', obj('a', 'red', 's1', 's2'));
    s.put('ns/b', obj('b', 'red', 's2'));
    s.put('ns/c', obj('c'));
    expect(names(s.byIndex('team', 'red'))).toEqual(['a', 'b']);
    expect(names(s.byIndex('refs', 's2'))).toEqual(['a', 'b']);
    expect(names(s.byIndex('refs', 's1'))).toEqual(['a']);
    s.put('ns/a', obj('a', 'blue', 's3'));
    expect(names(s.byIndex('team', 'red'))).toEqual(['b']);
    expect(names(s.byIndex('refs', 's1'))).toEqual([]);
    expect(names(s.byIndex('refs', 's3'))).toEqual(['a']);
    s.delete('ns/b');
    expect(names(s.byIndex('refs', 's2'))).toEqual([]);
    expect(names(s.list())).toEqual(['a', 'c']);
    expect(s.get('ns/b')).toBeUndefined();
  });

  it('keeps one, then several, then one again and no key under a value', () => {
    const s = new Indexer<KubernetesObject>();
    s.addIndex('team', (o) => (o.metadata?.labels?.['team'] ? [o.metadata.labels['team']] : []));
    s.put('ns/a', obj('a', 'red'));
    s.put('ns/a', obj('a', 'red'));
    expect(names(s.byIndex('team', 'red'))).toEqual(['a']);
    s.put('ns/b', obj('b', 'red'));
    s.put('ns/c', obj('c', 'red'));
    s.delete('ns/a');
    s.delete('ns/c');
    expect(names(s.byIndex('team', 'red'))).toEqual(['b']);
    s.put('ns/d', obj('d', 'red'));
    expect(names(s.byIndex('team', 'red'))).toEqual(['b', 'd']);
    s.delete('ns/b');
    s.delete('ns/d');
    expect(s.byIndex('team', 'red')).toEqual([]);
  });

  it('indexes what it holds already when an index is added later', () => {
    const s = new Indexer<KubernetesObject>();
    s.put('ns/a', obj('a', undefined, 's1'));
    s.addIndex('refs', refs);
    expect(names(s.byIndex('refs', 's1'))).toEqual(['a']);
  });

  it('refuses an unknown or a repeated index name', () => {
    const s = new Indexer<KubernetesObject>();
    s.addIndex('refs', refs);
    expect(() => s.addIndex('refs', refs)).toThrow(/exists already/);
    expect(() => s.byIndex('nope', 'x')).toThrow(/no index nope/);
  });
});
