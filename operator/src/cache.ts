// Read access to the informers' caches, keyed by kind. Reconcilers read the world from here, typed
// as the cache keeps it (cache-transforms.ts).
import type { CachedKind, CachedPod, CachedShapes } from './cache-transforms.ts';
import type { ResourceRef } from './kube/resources.ts';
import type { Informer } from './runtime/informer.ts';
import type { Clock } from './runtime/clock.ts';

export interface ObjectCache {
  get<K extends CachedKind>(r: ResourceRef<K>, namespace: string, name: string): CachedShapes[K] | undefined;
  list<K extends CachedKind>(
    r: ResourceRef<K>,
    namespace: string,
    match?: (o: CachedShapes[K]) => boolean,
  ): Array<CachedShapes[K]>;
  /** Objects of `r` labelled app.kubernetes.io/instance=`instance` (a deployment's children). */
  listByInstance<K extends CachedKind>(
    r: ResourceRef<K>,
    namespace: string,
    instance: string,
  ): Array<CachedShapes[K]>;
}

/** Lookups by a secondary index, which the informers of a kind keep (Informer.addIndex). */
export interface IndexedCache {
  byIndex<K extends CachedKind>(r: ResourceRef<K>, index: string, value: string): Array<CachedShapes[K]>;
}

type Informers = { [K in CachedKind]?: Array<Informer<CachedShapes[K]>> };

export class InformerCache implements ObjectCache, IndexedCache {
  private readonly byKind: Informers = {};

  add<K extends CachedKind>(r: ResourceRef<K>, informer: Informer<CachedShapes[K]>): void {
    const list: Informers[K] = this.byKind[r.kind] ?? [];
    list.push(informer);
    this.byKind[r.kind] = list;
  }

  /** Stops reading `r` from its informers (the caller closes them). */
  remove(r: ResourceRef<CachedKind>): void {
    delete this.byKind[r.kind];
  }

  /** Every cached object of `r`, in all namespaces. */
  all<K extends CachedKind>(r: ResourceRef<K>): Array<CachedShapes[K]> {
    return this.informers(r).flatMap((inf) => inf.list());
  }

  private informers<K extends CachedKind>(r: ResourceRef<K>): Array<Informer<CachedShapes[K]>> {
    const list = this.byKind[r.kind];
    if (!list) throw new Error(`no informer for ${r.plural}`);
    return list;
  }

  get<K extends CachedKind>(r: ResourceRef<K>, namespace: string, name: string): CachedShapes[K] | undefined {
    // A cluster-scoped object's key is its name (objectKey).
    const key = r.namespaced ? `${namespace}/${name}` : name;
    for (const inf of this.informers(r)) {
      const o = inf.get(key);
      if (o) return o;
    }
    return undefined;
  }

  list<K extends CachedKind>(
    r: ResourceRef<K>,
    namespace: string,
    match?: (o: CachedShapes[K]) => boolean,
  ): Array<CachedShapes[K]> {
    const out: Array<CachedShapes[K]> = [];
    for (const inf of this.informers(r)) {
      for (const o of inf.list()) {
        if (o.metadata?.namespace === namespace && (!match || match(o))) out.push(o);
      }
    }
    return out;
  }

  listByInstance<K extends CachedKind>(
    r: ResourceRef<K>,
    namespace: string,
    instance: string,
  ): Array<CachedShapes[K]> {
    return this.informers(r).flatMap((inf) => inf.listByInstance(namespace, instance));
  }

  byIndex<K extends CachedKind>(r: ResourceRef<K>, index: string, value: string): Array<CachedShapes[K]> {
    return this.informers(r).flatMap((inf) => inf.byIndex(index, value));
  }

  get synced(): boolean {
    return Object.values(this.byKind).every((l) => l.every((i) => i.hasSynced));
  }

  unsynced(): string[] {
    return Object.values(this.byKind)
      .flat()
      .filter((i) => !i.hasSynced)
      .map((i) => i.name);
  }

  /** Resolves once every informer has synced, or when `signal` aborts. */
  async waitForSync(clock: Clock, signal: AbortSignal): Promise<void> {
    while (!this.synced && !signal.aborted) await clock.sleep(50, signal);
  }
}

export function podReady(p: Pick<CachedPod, 'status'> | undefined): boolean {
  return !!p?.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}
