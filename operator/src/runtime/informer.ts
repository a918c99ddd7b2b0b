// List + watch into a local cache. Relists on 410 Gone, restarts with backoff on any error and
// when the watch goes silent (no event and no bookmark within stallMs), and resyncs periodically.
// Handlers receive objects, never event types: reconcilers are level-triggered.
import type { Logger } from 'pino';
import {
  ApiError,
  type AnswerOptions,
  type ListOptions,
  type ListResult,
  type WatchEvent,
} from '../kube/client.ts';
import { objectKey, type KubernetesObject, type ResourceRef } from '../kube/resources.ts';
import { backoffMs, realClock, type Clock } from './clock.ts';
import { Indexer, type IndexFunc } from './indexer.ts';

/**
 * What an informer needs of the API: KubeClient's list and watch. list() returns what `each`
 * makes of every item (the informer's transform), made as the items arrive.
 */
export interface InformerClient {
  list(
    r: ResourceRef,
    namespace?: string,
    labelSelector?: string,
    signal?: AbortSignal,
    answer?: ListOptions,
  ): Promise<ListResult<KubernetesObject>>;
  watch(
    r: ResourceRef,
    namespace: string | undefined,
    resourceVersion: string,
    opts: { labelSelector?: string | undefined; timeoutSeconds: number; signal: AbortSignal } & AnswerOptions,
  ): AsyncIterable<WatchEvent<KubernetesObject>>;
}

export interface InformerOptions<T extends KubernetesObject> {
  client: InformerClient;
  resource: ResourceRef;
  /** undefined watches every namespace. */
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  /** Called for every change, deletion and resync of an object. */
  onChange: (obj: T) => void;
  log: Logger;
  resyncMs?: number;
  watchTimeoutSeconds?: number;
  stallMs?: number;
  clock?: Clock;
  onRestart?: (reason: string) => void;
  /** What the cache keeps of each object (slim() keeps all but the bookkeeping). */
  transform: (o: KubernetesObject) => T;
  /**
   * The transform reads metadata only: list and watch ask the API server for PartialObjectMetadata,
   * which it encodes and sends without spec or status.
   */
  metadataOnly?: boolean;
}

/**
 * What the cache keeps of an object: managedFields and the last-applied annotation are dropped,
 * since reconcilers never read them and they are often the largest part of an object.
 */
export function slim(o: KubernetesObject): KubernetesObject {
  const m = o.metadata;
  if (!m || (!m.managedFields && !m.annotations?.['kubectl.kubernetes.io/last-applied-configuration']))
    return o;
  const { managedFields: _drop, ...meta } = m;
  if (meta.annotations?.['kubectl.kubernetes.io/last-applied-configuration']) {
    const { 'kubectl.kubernetes.io/last-applied-configuration': _last, ...rest } = meta.annotations;
    meta.annotations = rest;
  }
  return { ...o, metadata: meta };
}

const INSTANCE = 'app.kubernetes.io/instance';
/** `namespace/instance label`: a deployment's children, found without a scan. */
const BY_INSTANCE = 'instance';
const byInstance: IndexFunc<KubernetesObject> = (o) => {
  const inst = o.metadata?.labels?.[INSTANCE];
  return inst ? [`${o.metadata?.namespace ?? ''}/${inst}`] : [];
};

export class Informer<T extends KubernetesObject = KubernetesObject> {
  private readonly store = new Indexer<T>();
  private readonly opts: Required<
    Omit<InformerOptions<T>, 'namespace' | 'labelSelector' | 'onRestart' | 'metadataOnly'>
  > &
    InformerOptions<T>;
  private readonly stop = new AbortController();
  private synced = false;
  private loop: Promise<void> | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(opts: InformerOptions<T>) {
    this.opts = {
      resyncMs: 10 * 60_000,
      watchTimeoutSeconds: 300,
      stallMs: 330_000,
      clock: realClock,
      ...opts,
    };
    this.store.addIndex(BY_INSTANCE, byInstance);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get name(): string {
    return `${this.opts.resource.plural}${this.opts.namespace ? `@${this.opts.namespace}` : ''}`;
  }

  list(): T[] {
    return this.store.list();
  }

  /** Objects labelled app.kubernetes.io/instance=`instance` in `namespace`. */
  listByInstance(namespace: string, instance: string): T[] {
    return this.store.byIndex(BY_INSTANCE, `${namespace}/${instance}`);
  }

  /** A secondary index (added before start(), or objects already cached are indexed at once). */
  addIndex(name: string, fn: IndexFunc<T>): void {
    this.store.addIndex(name, fn);
  }

  /** Objects indexed under `value` in index `name`. */
  byIndex(name: string, value: string): T[] {
    return this.store.byIndex(name, value);
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  start(): void {
    this.loop ??= this.run();
    this.resyncTimer = setInterval(() => {
      for (const o of this.store.list()) this.opts.onChange(o);
    }, this.opts.resyncMs);
    this.resyncTimer.unref();
  }

  async close(): Promise<void> {
    this.stop.abort();
    clearInterval(this.resyncTimer);
    await this.loop;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stop.signal.aborted) {
      try {
        const rv = await this.relist();
        attempt = 0;
        await this.watchFrom(rv);
      } catch (err) {
        if (this.stop.signal.aborted) break;
        const gone = err instanceof ApiError && err.status === 410;
        const reason = gone ? 'gone' : err instanceof StallError ? 'stall' : 'error';
        this.opts.onRestart?.(reason);
        if (gone) continue;
        const delay = backoffMs(attempt++, 200, 30_000, 0.2);
        this.opts.log.warn(
          { informer: this.name, err, delayMs: delay },
          'watch failed; restarting after backoff',
        );
        await this.opts.clock.sleep(delay, this.stop.signal);
      }
    }
  }

  private async relist(): Promise<string> {
    const { items, resourceVersion } = await this.opts.client.list(
      this.opts.resource,
      this.opts.namespace,
      this.opts.labelSelector,
      this.stop.signal,
      { metadataOnly: !!this.opts.metadataOnly, each: this.opts.transform },
    );
    const seen = new Set<string>();
    for (const item of items) {
      // Made by the transform, as each page arrived (InformerClient).
      const o = item as T;
      const key = objectKey(o);
      seen.add(key);
      const prev = this.store.get(key);
      this.store.put(key, o);
      if (prev?.metadata?.resourceVersion !== o.metadata?.resourceVersion) this.opts.onChange(o);
    }
    for (const [key, o] of [...this.store.entries()]) {
      if (!seen.has(key)) {
        this.store.delete(key);
        this.opts.onChange(o);
      }
    }
    this.synced = true;
    return resourceVersion;
  }

  /** Watches until the server closes the stream (then resumes from the last version seen). */
  private async watchFrom(resourceVersion: string): Promise<void> {
    let rv = resourceVersion;
    while (!this.stop.signal.aborted) {
      const ctrl = new AbortController();
      const onStop = () => ctrl.abort();
      this.stop.signal.addEventListener('abort', onStop, { once: true });
      let stalled = false;
      let timer = setTimeout(() => ((stalled = true), ctrl.abort()), this.opts.stallMs);
      try {
        for await (const ev of this.opts.client.watch(this.opts.resource, this.opts.namespace, rv, {
          labelSelector: this.opts.labelSelector,
          timeoutSeconds: this.opts.watchTimeoutSeconds,
          signal: ctrl.signal,
          metadataOnly: !!this.opts.metadataOnly,
        })) {
          clearTimeout(timer);
          timer = setTimeout(() => ((stalled = true), ctrl.abort()), this.opts.stallMs);
          if (ev.type === 'ERROR') {
            const st = ev.object as { code?: number; reason?: string; message?: string };
            throw new ApiError(st.code ?? 500, st.reason ?? '', st.message ?? 'watch error', st);
          }
          const o = this.opts.transform(ev.object);
          rv = o.metadata?.resourceVersion ?? rv;
          if (ev.type === 'BOOKMARK') continue;
          const key = objectKey(o);
          if (ev.type === 'DELETED') this.store.delete(key);
          else
            this.store.put(key, {
              ...o,
              apiVersion: o.apiVersion ?? '',
              kind: o.kind ?? this.opts.resource.kind,
            });
          this.opts.onChange(o);
        }
      } catch (err) {
        if (stalled) throw new StallError(`no watch event within ${this.opts.stallMs} ms`);
        if (this.stop.signal.aborted) return;
        throw err;
      } finally {
        clearTimeout(timer);
        this.stop.signal.removeEventListener('abort', onStop);
      }
      if (stalled) throw new StallError(`no watch event within ${this.opts.stallMs} ms`);
    }
  }
}

export class StallError extends Error {}
