// What a controller declares it needs watched, after controller-runtime's builder: the kind it
// reconciles (For), the children whose changes wake their owner (Owns), other kinds and which of
// its objects their changes concern (Watches), and the secondary indexes those mappings read. The
// manager starts exactly the informers these name, and routes each event to the queues it concerns.
import type { CachedKind, CachedShapes } from '../cache-transforms.ts';
import type { IndexedCache } from '../cache.ts';
import { objectKey, type KubernetesObject, type ResourceRef } from '../kube/resources.ts';
import type { Reconciler } from './controller.ts';
import { priorityOf } from './priority.ts';
import type { Priority } from './work-queue.ts';

/** The operator's name in the managed-by label of everything it makes. */
export const MANAGED_BY = 'veloz-operator';
const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** Children carry their owner's name in this label (render() sets both on every child). */
const INSTANCE_LABEL = 'app.kubernetes.io/instance';
/** The label selector of owned kinds' informers: only what the operator made. */
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;

// `map` and `values` are methods, not function properties, so that declarations of different
// kinds fit one list; the manager calls each only with objects of its own resource.
export interface Watch<K extends CachedKind = CachedKind> {
  resource: ResourceRef<K>;
  /** The informer's label selector; undefined: every object of the kind. */
  selector?: string | undefined;
  /** The keys (`namespace/name`) of this controller's objects that a change of `o` concerns. */
  map(o: CachedShapes[K], cache: IndexedCache): string[];
}

export interface Index<K extends CachedKind = CachedKind> {
  resource: ResourceRef<K>;
  name: string;
  /** The values `o` is found under (IndexedCache.byIndex). */
  values(o: CachedShapes[K]): string[];
}

export interface Watches {
  /** The kind reconciled: a change of one of its objects queues that object, urgently when the
   * operator owes it a pass (runtime/priority.ts). */
  for: ResourceRef<CachedKind>;
  /** Children (labelled managed-by the operator, instance = the owner's name): a change queues
   * their owner. Watched by the managed-by label only. */
  owns: Array<ResourceRef<CachedKind>>;
  /** Other kinds whose changes concern objects of this controller. */
  watches: Watch[];
  /** Secondary indexes the mappings read, on any watched kind. */
  indexes: Index[];
}

export interface ControllerSetup {
  reconciler: Reconciler;
  watches: Watches;
}

/** The owner a child names: `namespace/instance` when the operator made it. */
export function ownerKey(o: KubernetesObject): string | undefined {
  const labels = o.metadata?.labels;
  const instance = labels?.[INSTANCE_LABEL];
  if (!instance || labels[MANAGED_BY_LABEL] !== MANAGED_BY) return undefined;
  return `${o.metadata?.namespace ?? ''}/${instance}`;
}

/** One informer per kind (and watched namespace): what it selects and indexes. */
export interface InformerPlan<K extends CachedKind = CachedKind> {
  resource: ResourceRef<K>;
  selector: string | undefined;
  indexes: Array<Index<K>>;
}

/**
 * The informers the declarations need. A kind declared with different selectors (a Secret that is
 * owned, and watched because deployments refer to it) is watched whole: the cache must hold what
 * every controller reads.
 */
export function planInformers(declared: readonly Watches[]): InformerPlan[] {
  const plans = new Map<string, InformerPlan>();
  const want = (resource: ResourceRef<CachedKind>, selector: string | undefined) => {
    const plan = plans.get(resource.kind);
    if (!plan) plans.set(resource.kind, { resource, selector, indexes: [] });
    else if (plan.selector !== selector) plan.selector = undefined;
  };
  for (const w of declared) {
    want(w.for, undefined);
    for (const r of w.owns) want(r, MANAGED_SELECTOR);
    for (const x of w.watches) want(x.resource, x.selector);
  }
  for (const w of declared) {
    for (const ix of w.indexes) {
      const plan = plans.get(ix.resource.kind);
      if (!plan) throw new Error(`index ${ix.name} is on ${ix.resource.plural}, which no controller watches`);
      if (plan.indexes.some((i) => i.name === ix.name)) throw new Error(`index ${ix.name} is declared twice`);
      plan.indexes.push(ix);
    }
  }
  return [...plans.values()];
}

/** A key to queue in one of the controllers (by its position in the declarations). */
export interface Route {
  controller: number;
  key: string;
  priority: Priority;
}

type Router = (o: CachedShapes[CachedKind]) => Route[];

/** For each kind, the keys a change of one of its objects queues, and in which controller. */
export function eventRouter(
  declared: readonly Watches[],
  cache: IndexedCache,
): (r: ResourceRef<CachedKind>, o: CachedShapes[CachedKind]) => Route[] {
  const byKind = new Map<string, Router[]>();
  const on = (r: ResourceRef<CachedKind>, fn: Router) =>
    byKind.set(r.kind, [...(byKind.get(r.kind) ?? []), fn]);
  declared.forEach((w, controller) => {
    on(w.for, (o) => [{ controller, key: objectKey(o), priority: priorityOf(o) }]);
    for (const r of w.owns) {
      on(r, (o) => {
        const key = ownerKey(o);
        return key ? [{ controller, key, priority: 'normal' }] : [];
      });
    }
    for (const x of w.watches) {
      on(x.resource, (o) => x.map(o, cache).map((key) => ({ controller, key, priority: 'normal' })));
    }
  });
  return (r, o) => (byKind.get(r.kind) ?? []).flatMap((fn) => fn(o));
}
