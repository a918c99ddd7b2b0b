// The few Lease calls self-fencing needs, on node:https with the pod's service account (ADR 0018;
// the operator's lean client of ADR 0005 is the model, but the engine may not import it): get,
// create and replace one coordination.k8s.io/v1 Lease. The token is read again on every call,
// since the kubelet rotates it.
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
}

export interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
  spec: LeaseSpec;
}

/** What the fence needs of the API server (an in-memory one in unit tests). */
export interface LeaseApi {
  /** The Lease, or undefined when it does not exist. */
  get(signal: AbortSignal): Promise<Lease | undefined>;
  create(lease: Lease, signal: AbortSignal): Promise<Lease>;
  /** Replaces the Lease if its resourceVersion is still current, else a LeaseConflict. */
  replace(lease: Lease, signal: AbortSignal): Promise<Lease>;
}

/** Someone else wrote the Lease first (409): read it again before deciding. */
export class LeaseConflict extends Error {}

export class LeaseApiError extends Error {
  readonly status: number;

  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

export interface InClusterOptions {
  /** https://host:port of the API server. */
  server: string;
  /** Holds `token`, `ca.crt` and `namespace`. */
  credentialsDir: string;
  name: string;
  timeoutMs: number;
}

/** The API server as a pod sees it: KUBERNETES_SERVICE_HOST and _PORT, or undefined outside a cluster. */
export function inClusterServer(env: NodeJS.ProcessEnv): string | undefined {
  const host = env['KUBERNETES_SERVICE_HOST'];
  if (!host) return undefined;
  const port = env['KUBERNETES_SERVICE_PORT'] || '443';
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export class InClusterLeaseApi implements LeaseApi {
  private readonly o: InClusterOptions;
  private ca: Buffer | undefined;
  private namespace: string | undefined;

  constructor(opts: InClusterOptions) {
    this.o = opts;
  }

  /** The namespace the Lease lives in (the service account's). */
  async leaseNamespace(): Promise<string> {
    this.namespace ??= (await readFile(join(this.o.credentialsDir, 'namespace'), 'utf8')).trim();
    return this.namespace;
  }

  private async path(named: boolean): Promise<string> {
    const ns = encodeURIComponent(await this.leaseNamespace());
    return `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases${named ? `/${encodeURIComponent(this.o.name)}` : ''}`;
  }

  async get(signal: AbortSignal): Promise<Lease | undefined> {
    const r = await this.call('GET', await this.path(true), undefined, signal);
    if (r.status === 404) return undefined;
    return this.answer(r, 'read');
  }

  async create(lease: Lease, signal: AbortSignal): Promise<Lease> {
    const r = await this.call('POST', await this.path(false), lease, signal);
    if (r.status === 409) throw new LeaseConflict(`Lease ${this.o.name} was created by someone else`);
    return this.answer(r, 'create');
  }

  async replace(lease: Lease, signal: AbortSignal): Promise<Lease> {
    const r = await this.call('PUT', await this.path(true), lease, signal);
    if (r.status === 409) throw new LeaseConflict(`Lease ${this.o.name} changed since it was read`);
    return this.answer(r, 'update');
  }

  private answer(r: { status: number; body: string }, verb: string): Lease {
    if (r.status >= 200 && r.status < 300) return JSON.parse(r.body) as Lease;
    let message = r.body.slice(0, 300);
    try {
      message = (JSON.parse(r.body) as { message?: string }).message ?? message;
    } catch {
      // not a Status object: keep the text
    }
    throw new LeaseApiError(`cannot ${verb} Lease ${this.o.name}: HTTP ${r.status}: ${message}`, r.status);
  }

  private async call(
    method: string,
    path: string,
    body: unknown,
    signal: AbortSignal,
  ): Promise<{ status: number; body: string }> {
    const token = (await readFile(join(this.o.credentialsDir, 'token'), 'utf8')).trim();
    this.ca ??= await readFile(join(this.o.credentialsDir, 'ca.crt'));
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const url = new URL(path, this.o.server);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          ca: this.ca,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(payload !== undefined && {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(payload),
            }),
          },
          timeout: this.o.timeoutMs,
          signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`the API server did not answer within ${this.o.timeoutMs} ms`)),
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}
