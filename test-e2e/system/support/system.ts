// What the full-system cases share: the cluster with real pods, a namespace per test, and the
// gateway of a deployment reached as a user inside the cluster would: its Service, with the API
// key the operator generated.
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { OrderView } from '@veloz/engine/engine/engine';
import { KubeClient } from '@veloz/operator/kube/client';
import { RESOURCES, type KubernetesObject } from '@veloz/operator/kube/resources';
import { eventually } from '../../support/cluster.ts';
import { names } from '@veloz/api/names';

export type Obj = KubernetesObject & { spec: Record<string, unknown>; status?: Record<string, unknown> };

export const skipReason = (): string => inject('systemSkip');
export const kubeconfig = (): string => inject('systemKubeconfig');
export const bin = (): string => inject('systemBin');
export const localCluster = (): string => inject('systemCluster');

/** Runs ctr against the real node's containerd of the local cluster (hack/node.sh ctr). */
export function nodeCtr(...args: string[]): string {
  const res = spawnSync(join(import.meta.dirname, '..', '..', '..', 'hack', 'node.sh'), ['ctr', ...args], {
    encoding: 'utf8',
    env: { ...process.env, VELOZ_CLUSTER_NAME: localCluster() },
  });
  if (res.status !== 0) throw new Error(`hack/node.sh ctr ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}
export const client = (): KubeClient => KubeClient.load(kubeconfig());

export function kubectl(...args: string[]): string {
  const res = spawnSync(join(bin(), 'kubectl'), ['--kubeconfig', kubeconfig(), ...args], {
    encoding: 'utf8',
  });
  if (res.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

/** Small requests: the node has two cores for the control plane, the operator and every pod. */
export const SMALL = {
  engine: { resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } } },
  gateway: { resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } } },
};

/** The quickstart sample (VelozDeployment and VelozStrategy), in `namespace`, with small pods. */
export async function quickstart(namespace: string): Promise<{ deployment: Obj; strategy: Obj }> {
  const docs = parseAllDocuments(
    await readFile(join(import.meta.dirname, '..', '..', '..', 'crds', 'samples', 'quickstart.yaml'), 'utf8'),
  ).map((x) => x.toJS() as Obj);
  const d = docs.find((o) => o.kind === 'VelozDeployment')!;
  const s = docs.find((o) => o.kind === 'VelozStrategy')!;
  return {
    deployment: {
      ...d,
      metadata: { ...d.metadata, namespace },
      spec: {
        ...d.spec,
        engine: { ...(d.spec['engine'] as object), ...SMALL.engine },
        gateway: { ...(d.spec['gateway'] as object), ...SMALL.gateway },
      },
    },
    strategy: { ...s, metadata: { ...s.metadata, namespace } },
  };
}

export const condition = (o: Obj | undefined, type: string) =>
  (o?.status?.['conditions'] as Array<{ type: string; status: string; reason: string }> | undefined)?.find(
    (x) => x.type === type,
  );

/** Waits until the deployment's current generation is Ready: every pair's pods Running and Ready. */
export async function ready(c: KubeClient, ns: string, name: string, timeoutMs = 240_000): Promise<Obj> {
  return eventually(
    `${ns}/${name} to be Ready`,
    async () => {
      const d = await c.find<Obj>(RESOURCES.velozDeployment, ns, name);
      return (
        d?.status?.['observedGeneration'] === d?.metadata?.generation &&
        condition(d, 'Ready')?.status === 'True' &&
        d
      );
    },
    timeoutMs,
    1000,
  );
}

/** Applies the quickstart (deployment, then strategy) and waits until the strategy trades. */
export async function quickstartTrading(c: KubeClient, ns: string): Promise<Obj> {
  const { deployment, strategy } = await quickstart(ns);
  await c.apply(deployment);
  await ready(c, ns, 'quickstart');
  await c.apply(strategy);
  return eventually(
    'the strategy to run on the engine and place orders',
    async () => {
      const o = await c.find<Obj>(RESOURCES.velozStrategy, ns, 'quickstart-grid');
      return Number(o?.status?.['ordersPlaced'] ?? 0) > 0 && o?.status?.['runningEngines'] === 1 && o;
    },
    120_000,
    1000,
  );
}

/** A client of one deployment's gateway Service, authenticated with the generated API key. */
export class Gateway {
  readonly url: string;
  private readonly key: string;

  private constructor(url: string, key: string) {
    this.url = url;
    this.key = key;
  }

  static async of(c: KubeClient, ns: string, name: string): Promise<Gateway> {
    const svc = await c.get<{ spec: { clusterIP: string; ports: Array<{ port: number }> } }>(
      RESOURCES.service,
      ns,
      name,
    );
    const secret = await c.get<{ data: Record<string, string> }>(
      RESOURCES.secret,
      ns,
      names(name).apiKeySecret,
    );
    const key = Buffer.from(secret.data['apiKey']!, 'base64').toString('utf8');
    const gw = new Gateway(`http://${svc.spec.clusterIP}:${svc.spec.ports[0]!.port}`, key);
    // A Ready pod is in the Service's endpoints before kube-proxy has programmed them: until then
    // the ClusterIP refuses connections (no endpoints: REJECT), as a client retrying would see.
    await eventually(
      `gateway Service ${ns}/${name} (${gw.url}) to accept connections`,
      async () => !!(await fetch(`${gw.url}/api/orders_state`, { signal: AbortSignal.timeout(5_000) })),
      60_000,
      500,
    );
    return gw;
  }

  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(this.url + path, {
      method,
      headers: {
        authorization: `Bearer ${this.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    return { status: res.status, body: (text.startsWith('{') ? JSON.parse(text) : { text }) as T };
  }

  /** Places an order, waiting out the engine's order rate limit (429 with Retry-After). */
  async place(order: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
    for (;;) {
      const r = await this.call('POST', '/api/orders', order);
      if (r.status !== 429) return r;
      await new Promise((res) => setTimeout(res, 200));
    }
  }

  async orders(status: 'all' | 'open' = 'all'): Promise<OrderView[]> {
    const r = await this.call<{ orders: OrderView[] }>('GET', `/api/orders_state?status=${status}`);
    if (r.status !== 200) throw new Error(`GET /api/orders_state: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.orders;
  }
}
