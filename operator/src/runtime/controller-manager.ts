// Starts what the controllers declared (runtime/watches.ts): one informer per declared kind and
// watched namespace, feeding the shared cache and routing each change to the queues it concerns;
// and the controllers themselves, while this replica leads (the caller decides when).
import type { Logger } from 'pino';
import type { InformerCache } from '../cache.ts';
import { cacheTransform, metadataOnly, type CachedKind, type CachedShapes } from '../cache-transforms.ts';
import { objectKey, type ResourceRef } from '../kube/resources.ts';
import { Controller } from './controller.ts';
import { Informer, type InformerClient } from './informer.ts';
import type { OperatorMetrics } from './metrics.ts';
import { priorityOf } from './priority.ts';
import {
  eventRouter,
  planInformers,
  type ControllerSetup,
  type InformerPlan,
  type Route,
} from './watches.ts';

export interface ControllerManagerOptions {
  client: InformerClient;
  cache: InformerCache;
  /** Namespaces watched; undefined: every namespace. */
  namespaces: string[] | undefined;
  /** Concurrent reconciles per controller. */
  workers: number;
  log: Logger;
  metrics: OperatorMetrics;
}

export class ControllerManager {
  private readonly o: ControllerManagerOptions;
  private readonly setups: readonly ControllerSetup[];
  private readonly plans: InformerPlan[];
  private readonly route: (r: ResourceRef<CachedKind>, o: CachedShapes[CachedKind]) => Route[];
  /** Running informers by kind. */
  private readonly informers = new Map<string, Array<Informer<CachedShapes[CachedKind]>>>();
  /** While leading: one per setup, in the same order. */
  private controllers: Controller[] | undefined;

  constructor(o: ControllerManagerOptions, setups: readonly ControllerSetup[]) {
    this.o = o;
    this.setups = setups;
    const declared = setups.map((s) => s.watches);
    this.plans = planInformers(declared);
    this.route = eventRouter(declared, o.cache);
  }

  /** Every kind some controller declared. */
  get kinds(): Array<ResourceRef<CachedKind>> {
    return this.plans.map((p) => p.resource);
  }

  /** Starts the informers of `kinds` not running yet; the cache reads them at once. */
  startInformers(kinds: ReadonlyArray<ResourceRef<CachedKind>> = this.kinds): void {
    const started: Array<Informer<CachedShapes[CachedKind]>> = [];
    for (const plan of this.plans) {
      if (!kinds.some((k) => k.kind === plan.resource.kind) || this.informers.has(plan.resource.kind))
        continue;
      // A cluster-scoped kind (Nodes) has one informer whatever the namespaces watched.
      const namespaces = plan.resource.namespaced ? (this.o.namespaces ?? [undefined]) : [undefined];
      const list = namespaces.map((ns) => this.informer(plan, ns));
      this.informers.set(plan.resource.kind, list);
      started.push(...list);
    }
    for (const inf of started) inf.start();
  }

  /** Stops the informers of `kinds` (default: all); the cache no longer reads them. */
  async closeInformers(kinds: ReadonlyArray<ResourceRef<CachedKind>> = this.kinds): Promise<void> {
    const closing: Array<Informer<CachedShapes[CachedKind]>> = [];
    for (const r of kinds) {
      this.o.cache.remove(r);
      closing.push(...(this.informers.get(r.kind) ?? []));
      this.informers.delete(r.kind);
    }
    await Promise.all(closing.map((i) => i.close()));
  }

  private informer<K extends CachedKind>(
    plan: InformerPlan<K>,
    namespace: string | undefined,
  ): Informer<CachedShapes[K]> {
    const r = plan.resource;
    const inf = new Informer<CachedShapes[K]>({
      client: this.o.client,
      resource: r,
      namespace,
      labelSelector: plan.selector,
      onChange: (o) => this.dispatch(this.route(r, o)),
      log: this.o.log,
      onRestart: (reason) => this.o.metrics.informerRestarts.inc({ resource: r.plural, reason }),
      transform: cacheTransform(r),
      metadataOnly: metadataOnly(r),
    });
    for (const ix of plan.indexes) inf.addIndex(ix.name, (o) => ix.values(o));
    this.o.cache.add(r, inf);
    return inf;
  }

  private dispatch(routes: Route[]): void {
    for (const { controller, key, priority } of routes)
      this.controllers?.[controller]?.queue.add(key, priority);
  }

  /**
   * Starts the controllers, each with every cached object of its kind queued (a new leader acts on
   * the whole world, the objects it owes a pass first).
   */
  startControllers(): void {
    if (this.controllers) return;
    const { workers, log, metrics } = this.o;
    this.controllers = this.setups.map((s) => new Controller(s.reconciler, { workers, log, metrics }));
    this.setups.forEach((s, i) => {
      const ctl = this.controllers![i]!;
      ctl.start();
      for (const o of this.o.cache.all(s.watches.for)) ctl.queue.add(objectKey(o), priorityOf(o));
    });
  }

  /** Stops the controllers: no new passes; resolves once the passes in flight have ended. */
  async stopControllers(): Promise<void> {
    const running = this.controllers ?? [];
    this.controllers = undefined;
    await Promise.all(running.map((c) => c.stop()));
  }

  /** Queues `key` in the controller of `r` (a change seen outside the cache, e.g. an engine's answer). */
  enqueue(r: ResourceRef, key: string): void {
    const i = this.setups.findIndex((s) => s.watches.for.kind === r.kind);
    this.controllers?.[i]?.queue.add(key);
  }

  /** Queues every object of the controllers watching one of `kinds` (their API came or went). */
  requeueWatchersOf(kinds: ReadonlyArray<ResourceRef<CachedKind>>): void {
    const named = (r: ResourceRef) => kinds.some((k) => k.kind === r.kind);
    this.setups.forEach((s, i) => {
      const w = s.watches;
      if (!w.owns.some(named) && !w.watches.some((x) => named(x.resource))) return;
      for (const o of this.o.cache.all(w.for)) this.controllers?.[i]?.queue.add(objectKey(o));
    });
  }
}
