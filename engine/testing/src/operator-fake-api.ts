// An in-memory API server for component tests: a writer that stores what the reconcilers apply,
// bumping resourceVersion/generation like the real one, with injectable failures (every write is
// counted); deletion with finalizers as the real one does it (marked with a deletionTimestamp,
// gone when the last finalizer is removed); a cache view that reads the objects as the operator's
// informers keep them; and list and watch, so real informers can run against it.
import type { ObjectCache } from '@veloz/operator/cache';
import { cacheTransform, type CachedKind, type CachedShapes } from '@veloz/operator/cache-transforms';
import { ApiError, type ListResult, type WatchEvent } from '@veloz/operator/kube/client';
import { resourceFor, type KubernetesObject, type ResourceRef } from '@veloz/operator/kube/resources';
import type { InformerClient } from '@veloz/operator/runtime/informer';

type Obj = KubernetesObject & { metadata: NonNullable<KubernetesObject['metadata']> };

interface Change {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
}

const INSTANCE = 'app.kubernetes.io/instance';

/** Whether `o` matches a label selector of `k=v` terms (all the informers use). */
function selects(o: KubernetesObject, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return o.metadata?.labels?.[k ?? ''] === v;
  });
}

/** Stored objects: one by its key, and those of a resource in a namespace. */
export interface ObjectStore {
  get(r: ResourceRef, namespace: string, name: string): KubernetesObject | undefined;
  list(r: ResourceRef, namespace: string): KubernetesObject[];
}

/**
 * An ObjectCache over stored objects, read through the operator's cache transforms: a reconciler
 * under test sees exactly what the real caches keep.
 */
export function cacheOver(store: ObjectStore): ObjectCache {
  const read = <K extends CachedKind>(r: ResourceRef<K>, ns: string): Array<CachedShapes[K]> =>
    store.list(r, ns).map(cacheTransform(r));
  return {
    get: (r, ns, name) => {
      const o = store.get(r, ns, name);
      return o && cacheTransform(r)(o);
    },
    list: (r, ns, match) => read(r, ns).filter((o) => !match || match(o)),
    listByInstance: (r, ns, instance) =>
      read(r, ns).filter((o) => o.metadata?.labels?.[INSTANCE] === instance),
  };
}

export class FakeApi {
  readonly objects = new Map<string, Obj>();
  writes: string[] = [];
  private rv = 1;
  private readonly changes: Change[] = [];
  private wake: Array<() => void> = [];
  /** Throws from the next write that matches. */
  failNext: { match: (verb: string, kind: string) => boolean; error: Error } | undefined;

  /** What the reconcilers read: the objects as the operator's informer caches keep them. */
  readonly cache: ObjectCache = cacheOver({
    get: (r, ns, name) => this.objects.get(this.key(r, ns, name)),
    list: (r, ns) => this.list(r, ns),
  });

  /** List and watch, for informers. */
  readonly client: InformerClient = {
    list: async (r, ns, selector, _signal, answer) => {
      const { items, resourceVersion } = this.listAll(r, ns, selector);
      return { items: answer?.each ? items.map(answer.each) : items, resourceVersion };
    },
    watch: (r, ns, rv, opts) => this.watch(r, ns, rv, opts),
  };

  private key(r: ResourceRef, ns: string, name: string): string {
    return `${r.kind}/${ns}/${name}`;
  }

  put(r: ResourceRef, o: KubernetesObject): Obj {
    const m = { ...(o.metadata ?? {}) };
    const k = this.key(r, m.namespace ?? '', m.name ?? '');
    const prev = this.objects.get(k);
    const specChanged = JSON.stringify(prev?.['spec']) !== JSON.stringify(o['spec']);
    m.resourceVersion = String(++this.rv);
    m.generation = prev ? (prev.metadata.generation ?? 1) + (specChanged ? 1 : 0) : 1;
    m.uid ??= prev?.metadata.uid ?? `uid-${this.rv}`;
    const obj = { ...o, apiVersion: o.apiVersion ?? '', kind: o.kind ?? r.kind, metadata: m } as Obj;
    this.store(k, obj, prev ? 'MODIFIED' : 'ADDED');
    return obj;
  }

  remove(r: ResourceRef, ns: string, name: string): void {
    const k = this.key(r, ns, name);
    const prev = this.objects.get(k);
    if (!prev) return;
    this.objects.delete(k);
    this.changed('DELETED', { ...prev, metadata: { ...prev.metadata, resourceVersion: String(++this.rv) } });
  }

  get<T extends object>(r: ResourceRef, ns: string, name: string): T | undefined {
    return this.objects.get(this.key(r, ns, name)) as T | undefined;
  }

  list(r: ResourceRef, ns: string): Obj[] {
    return [...this.objects.entries()].filter(([k]) => k.startsWith(`${r.kind}/${ns}/`)).map(([, o]) => o);
  }

  private store(k: string, obj: Obj, type: Change['type']): void {
    this.objects.set(k, obj);
    this.changed(type, obj);
  }

  private changed(type: Change['type'], object: Obj): void {
    this.changes.push({ rv: Number(object.metadata.resourceVersion), type, object });
    for (const w of this.wake.splice(0)) w();
  }

  private listAll(
    r: ResourceRef,
    ns: string | undefined,
    selector: string | undefined,
  ): ListResult<KubernetesObject> {
    const items = [...this.objects.entries()]
      .filter(([k]) => k.startsWith(ns ? `${r.kind}/${ns}/` : `${r.kind}/`))
      .map(([, o]) => o)
      .filter((o) => selects(o, selector));
    return { items, resourceVersion: String(this.rv) };
  }

  private async *watch(
    r: ResourceRef,
    ns: string | undefined,
    resourceVersion: string,
    opts: { labelSelector?: string | undefined; signal: AbortSignal },
  ): AsyncGenerator<WatchEvent<KubernetesObject>> {
    let seen = Number(resourceVersion);
    while (!opts.signal.aborted) {
      for (const c of this.changes) {
        if (c.rv <= seen) continue;
        seen = c.rv;
        const o = c.object;
        if (o.kind === r.kind && (!ns || o.metadata.namespace === ns) && selects(o, opts.labelSelector))
          yield { type: c.type, object: o };
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          opts.signal.removeEventListener('abort', done);
          resolve();
        };
        this.wake.push(done);
        opts.signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  private write(verb: string, kind: string, name: string): void {
    const f = this.failNext;
    if (f?.match(verb, kind)) {
      this.failNext = undefined;
      throw f.error;
    }
    this.writes.push(`${verb} ${kind}/${name}`);
  }

  // The writer side, shaped like KubeClient.
  apply = async <T>(obj: KubernetesObject): Promise<T> => {
    const r = resourceFor(obj.apiVersion ?? '', obj.kind ?? '');
    this.write('apply', r.kind, obj.metadata?.name ?? '');
    const cur = this.get<Obj>(r, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
    return this.put(r, { ...obj, ...(cur?.['status'] ? { status: cur['status'] } : {}) }) as T;
  };

  applyStatus = async <T>(r: ResourceRef, ns: string, name: string, status: unknown): Promise<T> => {
    this.write('status', r.kind, name);
    const cur = this.get<Obj>(r, ns, name);
    if (!cur) throw new ApiError(404, 'NotFound', `${name} not found`, {});
    const o = { ...cur, metadata: { ...cur.metadata, resourceVersion: String(++this.rv) }, status };
    this.store(this.key(r, ns, name), o, 'MODIFIED');
    return o as T;
  };

  mergePatch = async <T>(
    r: ResourceRef,
    ns: string | undefined,
    name: string,
    patch: unknown,
  ): Promise<T> => {
    this.write('patch', r.kind, name);
    const cur = this.get<Obj>(r, ns ?? '', name);
    if (!cur) throw new ApiError(404, 'NotFound', `${name} not found`, {});
    const p = patch as { metadata?: Record<string, unknown> };
    const o = {
      ...cur,
      metadata: { ...cur.metadata, ...p.metadata, resourceVersion: String(++this.rv) },
    } as Obj;
    this.store(this.key(r, ns ?? '', name), o, 'MODIFIED');
    if (o.metadata.deletionTimestamp && !o.metadata.finalizers?.length) this.remove(r, ns ?? '', name);
    return o as T;
  };

  delete = async (r: ResourceRef, ns: string | undefined, name: string): Promise<void> => {
    this.write('delete', r.kind, name);
    const cur = this.get<Obj>(r, ns ?? '', name);
    if (!cur?.metadata.finalizers?.length) {
      this.remove(r, ns ?? '', name);
      return;
    }
    if (cur.metadata.deletionTimestamp) return;
    const metadata = {
      ...cur.metadata,
      deletionTimestamp: new Date().toISOString(),
      resourceVersion: String(++this.rv),
    };
    this.store(this.key(r, ns ?? '', name), { ...cur, metadata }, 'MODIFIED');
  };
}
