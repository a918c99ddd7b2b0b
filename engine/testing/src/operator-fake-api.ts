// An in-memory API server for component tests: a cache the reconcilers read and a writer that
// stores what they apply, bumping resourceVersion/generation like the real one, with injectable
// failures. Every write is counted.
import type { ObjectCache } from '@veloz/operator/cache';
import { ApiError } from '@veloz/operator/kube/client';
import { resourceFor, type KubernetesObject, type ResourceRef } from '@veloz/operator/kube/resources';

type Obj = KubernetesObject & { metadata: NonNullable<KubernetesObject['metadata']> };

export class FakeApi implements ObjectCache {
  readonly objects = new Map<string, Obj>();
  writes: string[] = [];
  private rv = 1;
  /** Throws from the next write that matches. */
  failNext: { match: (verb: string, kind: string) => boolean; error: Error } | undefined;

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
    this.objects.set(k, obj);
    return obj;
  }

  remove(r: ResourceRef, ns: string, name: string): void {
    this.objects.delete(this.key(r, ns, name));
  }

  get<T extends object>(r: ResourceRef, ns: string, name: string): T | undefined {
    return this.objects.get(this.key(r, ns, name)) as T | undefined;
  }

  list<T extends object>(r: ResourceRef, ns: string, match?: (o: T) => boolean): T[] {
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(`${r.kind}/${ns}/`))
      .map(([, o]) => o as unknown as T)
      .filter((o) => !match || match(o));
  }

  listByInstance<T extends object>(r: ResourceRef, ns: string, instance: string): T[] {
    return this.list<T>(
      r,
      ns,
      (o) => (o as Obj).metadata.labels?.['app.kubernetes.io/instance'] === instance,
    );
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
    const o = { ...cur, status };
    this.objects.set(this.key(r, ns, name), o);
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
    this.objects.set(this.key(r, ns ?? '', name), o);
    return o as T;
  };

  delete = async (r: ResourceRef, ns: string | undefined, name: string): Promise<void> => {
    this.write('delete', r.kind, name);
    this.remove(r, ns ?? '', name);
  };
}
