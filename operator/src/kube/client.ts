// A small Kubernetes REST client: client-node loads the kubeconfig and supplies TLS and auth;
// requests go through node:http(s) so every call is counted (verb, kind, code) and watches are
// plain streams we can abort when they stall.
import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import { loadConnection, type Connection } from './kubeconfig.ts';
import {
  collectionPath,
  objectPath,
  type KubernetesObject,
  type ResourceRef,
  apiVersionOf,
  resourceFor,
} from './resources.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly body: unknown;

  constructor(status: number, reason: string, message: string, body: unknown) {
    super(message);
    this.status = status;
    this.reason = reason;
    this.body = body;
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof ApiError && err.status === 409;
}

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'apply' | 'delete';

export interface RequestObserver {
  (verb: Verb, kind: string, code: number, seconds: number): void;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/**
 * Accept headers that ask for an object's metadata only (PartialObjectMetadata, as client-go's
 * metadata informers do): the API server encodes and sends no spec or status, and the client parses
 * none. Plain JSON follows as the fallback of a server that cannot (then the whole object comes).
 */
const METADATA_ONLY = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';
const METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';

/** What a request may ask of the answer. */
export interface AnswerOptions {
  /** Only the metadata of the object(s) (apiVersion and kind are the resource's). */
  metadataOnly?: boolean;
}

export interface ListOptions extends AnswerOptions {
  /** What to keep of each item, made as its page arrives (the page's items are then dropped). */
  each?: (o: KubernetesObject) => KubernetesObject;
}

interface RequestOptions {
  verb: Verb;
  kind: string;
  accept?: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Further request headers (the engine token on a pod proxy call). */
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
  timeoutMs?: number;
}

/** Delays before retrying a request that did not reach the API server (a restart, a dead socket). */
const CONNECT_RETRIES = [100, 300, 900];

/**
 * Whether a failed request can be sent again as is: the connection was refused (nothing was
 * sent), or a connection broke before an answer and the request is idempotent (everything but
 * POST: gets, server-side apply, merge patches of whole lists, deletes).
 */
export function retryable(err: unknown, method: string): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNREFUSED') return true;
  const broken =
    code === 'ECONNRESET' || code === 'EPIPE' || (err instanceof Error && err.message === 'socket hang up');
  return broken && method !== 'POST';
}

export class KubeClient {
  readonly server: URL;
  private readonly conn: Connection;
  private readonly agent: http.Agent;
  private readonly observers: RequestObserver[] = [];
  readonly fieldManager: string;

  constructor(conn: Connection, fieldManager = 'veloz-operator') {
    this.conn = conn;
    this.server = conn.server;
    this.fieldManager = fieldManager;
    const opts = { keepAlive: true, maxSockets: 64 };
    this.agent =
      this.server.protocol === 'https:' ? new https.Agent({ ...opts, ...conn.tls }) : new http.Agent(opts);
  }

  /** A kubeconfig file when given; else in cluster; else $KUBECONFIG or ~/.kube/config. */
  static load(kubeconfig?: string): KubeClient {
    return new KubeClient(loadConnection(kubeconfig));
  }

  observe(o: RequestObserver): void {
    this.observers.push(o);
  }

  close(): void {
    this.agent.destroy();
  }

  private async open(method: string, path: string, o: RequestOptions): Promise<http.IncomingMessage> {
    const url = new URL(path, this.server);
    for (const [k, v] of Object.entries(o.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
    const req: https.RequestOptions = {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      agent: this.agent,
      headers: {
        ...o.headers,
        accept: o.accept ?? 'application/json',
        ...(payload
          ? {
              'content-type': o.contentType ?? 'application/json',
              'content-length': Buffer.byteLength(payload),
            }
          : {}),
      },
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.timeoutMs ? { timeout: o.timeoutMs } : {}),
    };
    await this.conn.authorize(req);
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const r = mod.request(req, resolve);
      r.on('error', reject);
      r.on('timeout', () =>
        r.destroy(new Error(`${method} ${url.pathname} timed out after ${o.timeoutMs} ms`)),
      );
      r.end(payload);
    });
  }

  async request<T>(method: string, path: string, o: RequestOptions): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt<T>(method, path, o);
      } catch (err) {
        if (attempt >= CONNECT_RETRIES.length || !retryable(err, method) || o.signal?.aborted) throw err;
        await new Promise((r) => setTimeout(r, CONNECT_RETRIES[attempt]));
      }
    }
  }

  private async attempt<T>(method: string, path: string, o: RequestOptions): Promise<T> {
    const t0 = performance.now();
    let code = 0;
    try {
      const res = await this.open(method, path, { timeoutMs: 30_000, ...o });
      code = res.statusCode ?? 0;
      let text = '';
      for await (const chunk of res) text += (chunk as Buffer).toString();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // Proxied and some error answers are plain text.
        if (code < 400)
          throw new ApiError(code, 'InvalidResponse', `${method} ${path}: answer is not JSON`, text);
        body = { message: text.trim().slice(0, 500) };
      }
      if (code >= 400) {
        const status = body as { reason?: string; message?: string; error?: string } | undefined;
        const detail = status?.message ?? status?.error;
        throw new ApiError(code, status?.reason ?? '', detail ?? `${method} ${path}: HTTP ${code}`, body);
      }
      return body as T;
    } finally {
      for (const ob of this.observers) ob(o.verb, o.kind, code, (performance.now() - t0) / 1000);
    }
  }

  get<T extends object = KubernetesObject>(
    r: ResourceRef,
    namespace: string | undefined,
    name: string,
  ): Promise<T> {
    return this.request<T>('GET', objectPath(r, namespace, name), { verb: 'get', kind: r.kind });
  }

  /** Gets an object, or undefined when it does not exist. */
  async find<T extends object = KubernetesObject>(
    r: ResourceRef,
    namespace: string | undefined,
    name: string,
  ): Promise<T | undefined> {
    try {
      return await this.get<T>(r, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Lists every page. With `each`, the items are what it makes of each one as its page arrives:
   * an informer's transform, so a list of thousands of whole objects never exists at once.
   */
  async list<T extends object = KubernetesObject>(
    r: ResourceRef,
    namespace?: string,
    labelSelector?: string,
    signal?: AbortSignal,
    answer: ListOptions = {},
  ): Promise<ListResult<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.request<{
        items: KubernetesObject[] | null;
        metadata: { continue?: string; resourceVersion: string };
      }>('GET', collectionPath(r, namespace), {
        verb: 'list',
        kind: r.kind,
        query: { labelSelector, limit: 500, continue: cont },
        signal,
        ...(answer.metadataOnly ? { accept: METADATA_LIST } : {}),
      });
      // A PartialObjectMetadataList of nothing comes with items null. The items are freshly
      // parsed, so they are named in place (a list's items come without apiVersion and kind).
      for (const it of page.items ?? []) {
        it.apiVersion = apiVersionOf(r);
        it.kind = r.kind;
        items.push((answer.each ? answer.each(it) : it) as T);
      }
      cont = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion;
    } while (cont);
    return { items, resourceVersion };
  }

  /** Streams watch events until the server ends the watch or `signal` aborts it. */
  async *watch<T extends object = KubernetesObject>(
    r: ResourceRef,
    namespace: string | undefined,
    resourceVersion: string,
    opts: { labelSelector?: string | undefined; timeoutSeconds: number; signal: AbortSignal } & AnswerOptions,
  ): AsyncGenerator<WatchEvent<T>> {
    const t0 = performance.now();
    let code = 0;
    try {
      const res = await this.open('GET', collectionPath(r, namespace), {
        verb: 'watch',
        kind: r.kind,
        signal: opts.signal,
        ...(opts.metadataOnly ? { accept: METADATA_ONLY } : {}),
        query: {
          watch: 1,
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: opts.timeoutSeconds,
          labelSelector: opts.labelSelector,
        },
      });
      code = res.statusCode ?? 0;
      if (code >= 400) {
        let text = '';
        for await (const chunk of res) text += (chunk as Buffer).toString();
        const status = (text ? JSON.parse(text) : {}) as { reason?: string; message?: string };
        throw new ApiError(
          code,
          status.reason ?? '',
          status.message ?? `watch ${r.plural}: HTTP ${code}`,
          status,
        );
      }
      for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
        if (!line) continue;
        const ev = JSON.parse(line) as WatchEvent<T & KubernetesObject>;
        // PartialObjectMetadata, as asked: named as the resource it is, like a list's items.
        if (opts.metadataOnly && ev.type !== 'ERROR' && ev.object.kind === 'PartialObjectMetadata') {
          ev.object.apiVersion = apiVersionOf(r);
          ev.object.kind = r.kind;
        }
        yield ev;
      }
    } finally {
      for (const ob of this.observers) ob('watch', r.kind, code, (performance.now() - t0) / 1000);
    }
  }

  /**
   * Server-side apply with this client's field manager. With metadataOnly the answer is the
   * applied object's metadata (what a caller needs to see whether it changed since).
   */
  async apply<T extends object = KubernetesObject>(
    obj: KubernetesObject,
    opts: { dryRun?: boolean; force?: boolean } & AnswerOptions = {},
  ): Promise<T> {
    const r = resourceFor(obj.apiVersion ?? '', obj.kind ?? '');
    const m = obj.metadata ?? {};
    if (!m.name) throw new Error(`cannot apply a ${obj.kind} without metadata.name`);
    const applied = await this.request<T & KubernetesObject>('PATCH', objectPath(r, m.namespace, m.name), {
      verb: 'apply',
      kind: r.kind,
      body: obj,
      contentType: 'application/apply-patch+yaml',
      query: {
        fieldManager: this.fieldManager,
        force: opts.force ?? true,
        dryRun: opts.dryRun ? 'All' : undefined,
      },
      ...(opts.metadataOnly ? { accept: METADATA_ONLY } : {}),
    });
    if (opts.metadataOnly && applied.kind === 'PartialObjectMetadata') {
      applied.apiVersion = apiVersionOf(r);
      applied.kind = r.kind;
    }
    return applied;
  }

  /** Server-side apply of the status subresource. */
  applyStatus<T extends object = KubernetesObject>(
    r: ResourceRef,
    namespace: string,
    name: string,
    status: unknown,
  ): Promise<T> {
    return this.request<T>('PATCH', `${objectPath(r, namespace, name)}/status`, {
      verb: 'apply',
      kind: r.kind,
      body: { apiVersion: apiVersionOf(r), kind: r.kind, metadata: { name, namespace }, status },
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: this.fieldManager, force: true },
    });
  }

  /** JSON merge patch (finalizers, annotations). */
  mergePatch<T extends object = KubernetesObject>(
    r: ResourceRef,
    namespace: string | undefined,
    name: string,
    patch: unknown,
  ): Promise<T> {
    return this.request<T>('PATCH', objectPath(r, namespace, name), {
      verb: 'patch',
      kind: r.kind,
      body: patch,
      contentType: 'application/merge-patch+json',
    });
  }

  create<T extends object = KubernetesObject>(
    r: ResourceRef,
    namespace: string | undefined,
    obj: object,
  ): Promise<T> {
    return this.request<T>('POST', collectionPath(r, namespace), { verb: 'create', kind: r.kind, body: obj });
  }

  update<T extends object = KubernetesObject>(
    r: ResourceRef,
    namespace: string | undefined,
    obj: object,
  ): Promise<T> {
    return this.request<T>('PUT', objectPath(r, namespace, (obj as KubernetesObject).metadata?.name ?? ''), {
      verb: 'update',
      kind: r.kind,
      body: obj,
    });
  }

  async delete(
    r: ResourceRef,
    namespace: string | undefined,
    name: string,
    propagation = 'Background',
    /** Deletes only the object as read (a 409 otherwise): another writer may have changed it since. */
    preconditions?: { resourceVersion?: string; uid?: string },
  ): Promise<void> {
    try {
      await this.request('DELETE', objectPath(r, namespace, name), {
        verb: 'delete',
        kind: r.kind,
        body: {
          kind: 'DeleteOptions',
          apiVersion: 'v1',
          propagationPolicy: propagation,
          ...(preconditions ? { preconditions } : {}),
        },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Whether the API server serves `group/version` `plural` (discovery). */
  async serves(group: string, version: string, plural: string): Promise<boolean> {
    try {
      const res = await this.request<{ resources: Array<{ name: string }> }>(
        'GET',
        `/apis/${group}/${version}`,
        {
          verb: 'get',
          kind: 'APIResourceList',
        },
      );
      return res.resources.some((x) => x.name === plural);
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }
}
