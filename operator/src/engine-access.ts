// How the operator reaches an engine's HTTP API: through the API server's pod proxy (works from
// outside the cluster, e.g. in tests and `npm start`) or directly at the pod IP (in cluster).
import http from 'node:http';
import { ENGINE_TOKEN_HEADER } from '@veloz/api/http/credentials';
import { ApiError, type KubeClient } from './kube/client.ts';

export const ENGINE_PORT = 8080;

export interface EngineResponse<T> {
  status: number;
  body: T;
}

export interface EngineAccess {
  /** `signal` abandons the call (the operator is stopping). */
  call<T>(
    namespace: string,
    pod: string,
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<EngineResponse<T>>;
}

export class EngineUnreachableError extends Error {}

/**
 * The admin engine token of the desk an engine pod belongs to (ADR 14), or undefined when it is
 * not known yet: the call then goes without, and an engine with tokens answers 401.
 */
export type EngineToken = (namespace: string, pod: string) => string | undefined;

const tokenHeaders = (token: string | undefined): Record<string, string> =>
  token ? { [ENGINE_TOKEN_HEADER]: token } : {};

/** Calls through `/api/v1/namespaces/NS/pods/POD:8080/proxy/PATH`. */
export class ProxyEngineAccess implements EngineAccess {
  private readonly client: KubeClient;
  private readonly token: EngineToken;

  constructor(client: KubeClient, token: EngineToken) {
    this.client = client;
    this.token = token;
  }

  async call<T>(
    namespace: string,
    pod: string,
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<EngineResponse<T>> {
    const url = `/api/v1/namespaces/${namespace}/pods/${pod}:${ENGINE_PORT}/proxy${path}`;
    try {
      const res = await this.client.request<T>(method, url, {
        verb: method === 'GET' ? 'get' : method === 'DELETE' ? 'delete' : 'update',
        kind: 'pods/proxy',
        body,
        // The API server strips Authorization (its own credential) but passes this header on.
        headers: tokenHeaders(this.token(namespace, pod)),
        timeoutMs: 10_000,
        ...(signal ? { signal } : {}),
      });
      return { status: 200, body: res };
    } catch (err) {
      // The engine's own 4XX answers carry {"error": ...}; anything else (a Kubernetes Status, plain
      // text) comes from the API server or its proxy and means the engine was not reached.
      const engineAnswer =
        typeof (err as ApiError).body === 'object' &&
        typeof ((err as ApiError).body as { error?: unknown })?.error === 'string';
      if (err instanceof ApiError && err.status < 500 && engineAnswer)
        return { status: err.status, body: err.body as T };
      throw new EngineUnreachableError(
        `engine ${namespace}/${pod}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
}

/** Calls http://POD_IP:8080 directly; `podIp` resolves a pod name to its IP. */
export class DirectEngineAccess implements EngineAccess {
  private readonly podIp: (namespace: string, pod: string) => string | undefined;
  private readonly token: EngineToken;

  constructor(podIp: (namespace: string, pod: string) => string | undefined, token: EngineToken) {
    this.podIp = podIp;
    this.token = token;
  }

  call<T>(
    namespace: string,
    pod: string,
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<EngineResponse<T>> {
    const ip = this.podIp(namespace, pod);
    if (!ip)
      return Promise.reject(new EngineUnreachableError(`engine ${namespace}/${pod} has no pod IP yet`));
    return httpJson<T>(
      `http://${ip.includes(':') ? `[${ip}]` : ip}:${ENGINE_PORT}${path}`,
      method,
      body,
      10_000,
      signal,
      this.token(namespace, pod),
    );
  }
}

/** A JSON request with a timeout; connection failures become EngineUnreachableError. */
export function httpJson<T>(
  url: string,
  method: string,
  body?: unknown,
  timeoutMs = 10_000,
  signal?: AbortSignal,
  token?: string,
): Promise<EngineResponse<T>> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        timeout: timeoutMs,
        ...(signal ? { signal } : {}),
        headers: {
          ...tokenHeaders(token),
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : undefined) as T });
          } catch {
            reject(new EngineUnreachableError(`${method} ${url}: answer is not JSON`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (err) => reject(new EngineUnreachableError(`${method} ${url}: ${err.message}`)));
    req.end(payload);
  });
}
