// An informer's store, after client-go's cache.Indexer: objects by `namespace/name`, and named
// secondary indexes over them (index name -> value -> keys), so a lookup by a label or by a field
// (a deployment's children, the deployments referring to a Secret) finds objects without a scan.
import type { KubernetesObject } from '../kube/resources.ts';

/** The values an object is found under in one index (none: not indexed). */
export type IndexFunc<T> = (o: T) => string[];

export class Indexer<T extends KubernetesObject> {
  private readonly items = new Map<string, T>();
  private readonly funcs = new Map<string, IndexFunc<T>>();
  /**
   * By index name, then value: the keys of the objects indexed under it. One key is kept as is,
   * not in a Set: most values index one object (a desk's one Service of a kind), and a Set costs
   * about 100 bytes, for each of tens of thousands of objects at 2,000 desks.
   */
  private readonly indices = new Map<string, Map<string, string | Set<string>>>();

  /** Adds an index; objects already stored are indexed at once. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    if (this.funcs.has(name)) throw new Error(`index ${name} exists already`);
    this.funcs.set(name, fn);
    this.indices.set(name, new Map());
    for (const [key, o] of this.items) this.index(name, fn, key, o);
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  entries(): IterableIterator<[string, T]> {
    return this.items.entries();
  }

  /** Objects indexed under `value` in index `name`. */
  byIndex(name: string, value: string): T[] {
    const index = this.indices.get(name);
    if (!index) throw new Error(`no index ${name}`);
    const keys = index.get(value);
    const out: T[] = [];
    for (const key of typeof keys === 'string' ? [keys] : (keys ?? [])) {
      const o = this.items.get(key);
      if (o) out.push(o);
    }
    return out;
  }

  put(key: string, o: T): void {
    this.delete(key);
    this.items.set(key, o);
    for (const [name, fn] of this.funcs) this.index(name, fn, key, o);
  }

  delete(key: string): void {
    const prev = this.items.get(key);
    if (!prev) return;
    this.items.delete(key);
    for (const [name, fn] of this.funcs) {
      const index = this.indices.get(name)!;
      for (const value of fn(prev)) {
        const keys = index.get(value);
        if (keys === key) index.delete(value);
        else if (typeof keys === 'object') {
          keys.delete(key);
          if (keys.size === 1) index.set(value, keys.values().next().value!);
        }
      }
    }
  }

  private index(name: string, fn: IndexFunc<T>, key: string, o: T): void {
    const index = this.indices.get(name)!;
    for (const value of fn(o)) {
      const keys = index.get(value);
      if (keys === undefined || keys === key) index.set(value, key);
      else if (typeof keys === 'string') index.set(value, new Set([keys, key]));
      else keys.add(key);
    }
  }
}
