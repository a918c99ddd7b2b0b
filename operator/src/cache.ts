// Read access to the informers' caches, keyed by resource. Reconcilers read the world from here.
import type { KubernetesObject, ResourceRef } from './kube/resources.ts';
import type { Informer } from './runtime/informer.ts';

export interface ObjectCache {
  get<T extends object = KubernetesObject>(r: ResourceRef, namespace: string, name: string): T | undefined;
  list<T extends object = KubernetesObject>(
    r: ResourceRef,
    namespace: string,
    match?: (o: T) => boolean,
  ): T[];
  /** Objects of `r` labelled app.kubernetes.io/instance=`instance` (a deployment's children). */
  listByInstance<T extends object = KubernetesObject>(
    r: ResourceRef,
    namespace: string,
    instance: string,
  ): T[];
}

export class InformerCache implements ObjectCache {
  private readonly byResource = new Map<string, Informer[]>();

  add(r: ResourceRef, informer: Informer): void {
    const list = this.byResource.get(r.plural + r.group) ?? [];
    list.push(informer);
    this.byResource.set(r.plural + r.group, list);
  }

  /** Stops reading `r` from its informers (the caller closes them). */
  remove(r: ResourceRef): void {
    this.byResource.delete(r.plural + r.group);
  }

  /** Every cached object of `r`, in all namespaces. */
  all<T extends object = KubernetesObject>(r: ResourceRef): T[] {
    return this.informers(r).flatMap((inf) => inf.list()) as unknown as T[];
  }

  private informers(r: ResourceRef): Informer[] {
    const list = this.byResource.get(r.plural + r.group);
    if (!list) throw new Error(`no informer for ${r.plural}`);
    return list;
  }

  get<T extends object = KubernetesObject>(r: ResourceRef, namespace: string, name: string): T | undefined {
    for (const inf of this.informers(r)) {
      const o = inf.get(`${namespace}/${name}`);
      if (o) return o as unknown as T;
    }
    return undefined;
  }

  list<T extends object = KubernetesObject>(
    r: ResourceRef,
    namespace: string,
    match?: (o: T) => boolean,
  ): T[] {
    const out: T[] = [];
    for (const inf of this.informers(r)) {
      for (const o of inf.list()) {
        if (o.metadata?.namespace === namespace && (!match || match(o as unknown as T)))
          out.push(o as unknown as T);
      }
    }
    return out;
  }

  listByInstance<T extends object = KubernetesObject>(
    r: ResourceRef,
    namespace: string,
    instance: string,
  ): T[] {
    return this.informers(r).flatMap((inf) => inf.listByInstance(namespace, instance)) as unknown as T[];
  }

  get synced(): boolean {
    return [...this.byResource.values()].every((l) => l.every((i) => i.hasSynced));
  }

  unsynced(): string[] {
    return [...this.byResource.values()]
      .flat()
      .filter((i) => !i.hasSynced)
      .map((i) => i.name);
  }
}

export interface PodLike {
  metadata?: { name?: string };
  status?: { podIP?: string; conditions?: Array<{ type: string; status: string }> };
}

export function podReady(p: PodLike | undefined): boolean {
  return !!p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}
