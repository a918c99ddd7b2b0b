// What the plugin reads, through the API server only: the VelozDeployment, its pods and Events, the
// desk's admin engine token (Secret X-engine-token, ADR 14), and each engine's own answers through
// the pod proxy (the header X-Veloz-Engine-Token passes the proxy; Authorization does not).
import type { VelozDeployment } from '@veloz/api/generated/types';
import type {
  Health,
  Order,
  OrdersState,
  Position,
  Reconciliation,
  WalStatus,
} from '@veloz/api/http/contract';
import { names } from '@veloz/api/names';
import { splitTokens } from '@veloz/common/tokens';
import { ProxyEngineAccess, type EngineAccess } from '@veloz/operator/engine-access';
import { ApiError, type KubeClient } from '@veloz/operator/kube/client';
import { RESOURCES, type KubernetesObject } from '@veloz/operator/kube/resources';
import type { DeskObserved, EventSummary, PairReading, PodSummary } from './desk-status.ts';

/** A failure the user can act on; the message names what failed. */
export class PluginError extends Error {}

/** An API server refusal in words: which object, and whether it is missing or forbidden. */
export function explain(err: unknown, what: string): Error {
  if (err instanceof PluginError) return err;
  if (err instanceof ApiError) {
    if (err.status === 403) return new PluginError(`no permission to ${what}: ${err.message}`);
    if (err.status === 401)
      return new PluginError(`the API server refused the credentials to ${what}: ${err.message}`);
    if (err.status === 404) return new PluginError(`cannot ${what}: not found (${err.message})`);
    return new PluginError(`cannot ${what}: HTTP ${err.status}: ${err.message}`);
  }
  return new PluginError(`cannot ${what}: ${err instanceof Error ? err.message : String(err)}`);
}

/** A VelozDeployment as read from the API server: it has its name and namespace. */
export type Desk = VelozDeployment & {
  metadata: VelozDeployment['metadata'] & { name: string; namespace: string };
};

export const asDesk = (d: VelozDeployment, ns: string): Desk => ({
  ...d,
  metadata: { ...d.metadata, name: d.metadata.name ?? '', namespace: d.metadata.namespace ?? ns },
});

export async function getDesk(c: KubeClient, ns: string, name: string): Promise<Desk> {
  let d: VelozDeployment | undefined;
  try {
    d = await c.find<VelozDeployment>(RESOURCES.velozDeployment, ns, name);
  } catch (err) {
    throw explain(err, `read VelozDeployment ${ns}/${name}`);
  }
  if (!d)
    throw new PluginError(
      `no desk "${name}" in namespace "${ns}": no such VelozDeployment (kubectl get vzd -A lists them)`,
    );
  return asDesk(d, ns);
}

/** The desk's admin engine token (the first when the key holds several). */
export async function adminToken(c: KubeClient, ns: string, x: string): Promise<string> {
  const secret = names(x).engineTokenSecret;
  let s: { data?: Record<string, string> } | undefined;
  try {
    s = await c.find<{ data?: Record<string, string> }>(RESOURCES.secret, ns, secret);
  } catch (err) {
    throw explain(err, `read Secret ${ns}/${secret} (the desk's engine tokens)`);
  }
  const raw = s?.data?.['admin'];
  const token = splitTokens(raw === undefined ? undefined : Buffer.from(raw, 'base64').toString('utf8'))[0];
  if (!token)
    throw new PluginError(
      `Secret ${ns}/${secret} has no admin token yet: the operator creates it (is the operator running?)`,
    );
  return token;
}

export const engineAccess = (c: KubeClient, token: string): EngineAccess =>
  new ProxyEngineAccess(c, () => token);

/** One engine call that must answer 200; anything else throws with the path and the reason. */
export async function engineGet<T>(
  access: EngineAccess,
  ns: string,
  pod: string,
  path: string,
  method = 'GET',
  body?: unknown,
): Promise<T> {
  const res = await access.call<T>(ns, pod, method, path, body);
  if (res.status === 200) return res.body;
  const why = (res.body as { error?: string } | undefined)?.error ?? '';
  const hint =
    res.status === 401 || res.status === 403
      ? ' (the engine refused the desk admin token: was Secret X-engine-token rotated?)'
      : '';
  throw new PluginError(`${method} ${path}: HTTP ${res.status}${why ? `: ${why}` : ''}${hint}`);
}

interface Pod extends KubernetesObject {
  spec?: { containers?: Array<{ image?: string }> };
  status?: {
    phase?: string;
    conditions?: Array<{ type: string; status: string }>;
    containerStatuses?: Array<{ restartCount?: number }>;
  };
}

export function podSummary(p: Pod): PodSummary {
  return {
    name: p.metadata?.name ?? '',
    ready: !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    phase: p.status?.phase ?? 'Unknown',
    image: p.spec?.containers?.[0]?.image ?? '',
    restarts: (p.status?.containerStatuses ?? []).reduce((n, s) => n + (s.restartCount ?? 0), 0),
  };
}

export async function deskPods(c: KubeClient, ns: string, x: string): Promise<PodSummary[]> {
  try {
    const pods = await c.list<Pod>(RESOURCES.pod, ns, `app.kubernetes.io/instance=${x}`);
    return pods.items.map(podSummary);
  } catch (err) {
    throw explain(err, `list the pods of desk ${ns}/${x}`);
  }
}

/** Why an engine pod cannot be asked, or '' when it can. */
export function podProblem(pods: PodSummary[], pod: string): string {
  const p = pods.find((x) => x.name === pod);
  if (!p) return 'its pod does not exist';
  if (p.phase !== 'Running') return `its pod is ${p.phase}`;
  return '';
}

/** Every order of one engine, following the pages. */
export async function engineOrders(access: EngineAccess, ns: string, pod: string): Promise<Order[]> {
  const out: Order[] = [];
  let cursor: string | null = '';
  do {
    const q: string = `/api/orders_state?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page: OrdersState = await engineGet<OrdersState>(access, ns, pod, q);
    out.push(...page.orders);
    cursor = page.next;
  } while (cursor);
  return out;
}

export async function readPair(
  access: EngineAccess,
  ns: string,
  pods: PodSummary[],
  x: string,
  index: number,
): Promise<PairReading> {
  const pod = names(x).enginePod(index);
  const problem = podProblem(pods, pod);
  if (problem) return { index, enginePod: pod, error: problem };
  try {
    const [health, orders, positions, wal, reconciliation] = await Promise.all([
      engineGet<Health>(access, ns, pod, '/health'),
      engineOrders(access, ns, pod),
      engineGet<{ positions: Position[] }>(access, ns, pod, '/api/positions'),
      engineGet<WalStatus>(access, ns, pod, '/api/wal/status'),
      engineGet<Reconciliation>(access, ns, pod, '/api/exchange/reconciliation'),
    ]);
    return { index, enginePod: pod, health, orders, positions: positions.positions, wal, reconciliation };
  } catch (err) {
    return {
      index,
      enginePod: pod,
      error: `not reachable: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

interface KubeEvent extends KubernetesObject {
  type?: string;
  reason?: string;
  message?: string;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  firstTimestamp?: string | null;
  involvedObject?: { kind?: string; name?: string };
}

/** The desk's recent Events: about the deployment and the objects named after it, newest last. */
export async function deskEvents(c: KubeClient, ns: string, x: string, limit = 10): Promise<EventSummary[]> {
  let items: KubeEvent[];
  try {
    items = (await c.list<KubeEvent>(RESOURCES.event, ns)).items;
  } catch (err) {
    // Events help but are not the point: a user without the right still sees the rest.
    if (err instanceof ApiError && err.status === 403) return [];
    throw explain(err, `list the Events of namespace ${ns}`);
  }
  return items
    .filter((e) => {
      const n = e.involvedObject?.name ?? '';
      return n === x || n.startsWith(`${x}-`) || n.startsWith(`wal-${x}-`);
    })
    .map((e) => ({
      time: e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp ?? '',
      type: e.type ?? '',
      reason: e.reason ?? '',
      object: `${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}`,
      message: (e.message ?? '').trim(),
    }))
    .sort((a, b) => Date.parse(a.time) - Date.parse(b.time))
    .slice(-limit);
}

export async function observeDesk(
  c: KubeClient,
  ns: string,
  x: string,
  now = Date.now(),
): Promise<DeskObserved> {
  const deployment = await getDesk(c, ns, x);
  const [pods, events] = await Promise.all([deskPods(c, ns, x), deskEvents(c, ns, x)]);
  const indexes = Array.from({ length: deployment.spec.pairs }, (_, i) => i);
  let pairs: PairReading[];
  if (indexes.length === 0) pairs = [];
  else {
    let access: EngineAccess | undefined;
    let tokenError = '';
    try {
      access = engineAccess(c, await adminToken(c, ns, x));
    } catch (err) {
      tokenError = err instanceof Error ? err.message : String(err);
    }
    pairs = await Promise.all(
      indexes.map((i) =>
        access
          ? readPair(access, ns, pods, x, i)
          : Promise.resolve({ index: i, enginePod: names(x).enginePod(i), error: tokenError }),
      ),
    );
  }
  return { deployment, pods, pairs, events, now };
}
