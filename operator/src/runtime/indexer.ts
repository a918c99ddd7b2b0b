// An informer's store, after client-go's cache.Indexer: objects by `namespace/name`, and named
// secondary indexes over them (index name -> value -> keys), so a lookup by a label or by a field
// (a deployment's children, the deployments referring to a Secret) finds objects without a scan.
import type { KubernetesObject } from '../kube/resources.ts';

/** The values an object is found under in one index (none: not indexed). */
export type IndexFunc<T> = (o: T) => string[];

export class Indexer<T extends KubernetesObject> {
  private readonly items = new Map<string, T>();
  private readonly funcs = new Map<string, IndexFunc<T>>();
  /** By index name, then value: the keys of the objects indexed under it. */
  private readonly indices = new Map<string, Map<string, Set<string>>>();

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
    const out: T[] = [];
    for (const key of index.get(value) ?? []) {
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
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }

  private index(name: string, fn: IndexFunc<T>, key: string, o: T): void {
    const index = this.indices.get(name)!;
    for (const value of fn(o)) {
      let keys = index.get(value);
      if (!keys) index.set(value, (keys = new Set()));
      keys.add(key);
    }
  }
}
