// The desk at a glance: a pure function of what was read from the API server and from each engine,
// so the rendering and the sums are tested on recorded answers. Totals are sums of the engines' own
// answers (orders, positions, WAL); the operator's status only fills in for a pair it could not read.
import type { Condition, VelozDeployment } from '@veloz/api/generated/types';
import type { Health, Order, Position, Reconciliation, WalStatus } from '@veloz/api/http/contract';
import { sumDecimals } from '@veloz/operator/status/decimal-sum';

/** What one engine answered, or why it could not be read. */
export interface PairReading {
  index: number;
  enginePod: string;
  /** Why the engine was not read (pod missing or not ready, proxy error, HTTP status). */
  error?: string;
  health?: Health;
  orders?: Order[];
  positions?: Position[];
  wal?: WalStatus;
  reconciliation?: Reconciliation;
}

export interface PodSummary {
  name: string;
  ready: boolean;
  phase: string;
  image: string;
  restarts: number;
}

export interface EventSummary {
  time: string;
  type: string;
  reason: string;
  object: string;
  message: string;
}

export interface DeskObserved {
  deployment: VelozDeployment;
  pods: PodSummary[];
  pairs: PairReading[];
  events: EventSummary[];
  /** Milliseconds since the epoch: "today" for the filled count. */
  now: number;
}

export interface PairStatusView {
  index: number;
  engine: string;
  engineReady: boolean;
  gatewayReady: boolean;
  image: string;
  restarts: number;
  /** Why the engine's own figures are missing; empty when it answered. */
  error: string;
  executionMode: string;
  ordersOpen: number;
  ordersFilledToday: number;
  walEntries: number | null;
  lastCheckpoint: string | null;
  inSync: boolean | null;
  syncMessage: string;
}

export interface SymbolTotals {
  symbol: string;
  quantity: string;
  realizedPnl: string;
  unrealizedPnl: string;
}

export interface DeskStatus {
  name: string;
  namespace: string;
  phase: string;
  mode: string;
  image: string;
  paused: boolean;
  desiredPairs: number;
  readyPairs: number;
  pairs: PairStatusView[];
  orders: { open: number; filledToday: number };
  positions: SymbolTotals[];
  wal: { entries: number; lastCheckpoint: string | null };
  lastBackup: { time: string; result: string; message: string } | null;
  exchangeInSync: boolean | null;
  conditions: Array<Pick<Condition, 'type' | 'status' | 'reason' | 'message'>>;
  events: EventSummary[];
  /** Pairs whose engine could not be read: the totals leave them out. */
  incomplete: number[];
}

/** Statuses of an order the engine still works (or waits on the exchange for). */
const OPEN = new Set<Order['status']>([
  'NEW',
  'SUBMITTED',
  'ACCEPTED',
  'PARTIALLY_FILLED',
  'PENDING_CANCEL',
  'UNKNOWN',
]);

export const isOpen = (o: Pick<Order, 'status'>): boolean => OPEN.has(o.status);

const startOfUtcDay = (ms: number): number => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
};

function pairView(o: DeskObserved, r: PairReading): PairStatusView {
  const x = o.deployment.metadata.name ?? '';
  const st = o.deployment.status?.pairs?.find((p) => p.index === r.index);
  const engine = o.pods.find((p) => p.name === r.enginePod);
  const gateway = o.pods.find((p) => p.name === `${x}-gateway-${r.index}`);
  const day = startOfUtcDay(o.now);
  const orders = r.orders ?? [];
  const sync = st?.conditions?.find((c) => c.type === 'ExchangeInSync');
  const rec = r.reconciliation;
  return {
    index: r.index,
    engine: r.enginePod,
    engineReady: engine?.ready ?? false,
    gatewayReady: gateway?.ready ?? false,
    image: engine?.image ?? '',
    restarts: engine?.restarts ?? 0,
    error: r.error ?? '',
    executionMode: r.health?.executionMode ?? '',
    ordersOpen: orders.filter(isOpen).length,
    ordersFilledToday: orders.filter((x) => x.status === 'FILLED' && x.updatedAt >= day).length,
    // The engine's own answer; the operator's last report when the engine was not read.
    walEntries: r.wal?.durableSequence ?? st?.walEntries ?? null,
    lastCheckpoint: r.wal ? (r.wal.lastCheckpoint?.time ?? null) : (st?.lastCheckpoint ?? null),
    inSync: rec ? rec.inSync : sync ? sync.status === 'True' : null,
    syncMessage: rec
      ? rec.open.map((d) => `${d.kind} ${d.symbol}: ${d.message}`).join('; ') ||
        (rec.lastRun && !rec.lastRun.ok ? rec.lastRun.error : '')
      : sync && sync.status !== 'True'
        ? sync.message
        : '',
  };
}

/** Position and PnL per symbol, summed over every pair and strategy. */
export function symbolTotals(positions: Position[]): SymbolTotals[] {
  const bySymbol = new Map<string, Position[]>();
  for (const p of positions) bySymbol.set(p.symbol, [...(bySymbol.get(p.symbol) ?? []), p]);
  return [...bySymbol.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([symbol, ps]) => ({
      symbol,
      quantity: sumDecimals(ps.map((p) => p.quantity)),
      realizedPnl: sumDecimals(ps.map((p) => p.realizedPnl)),
      unrealizedPnl: sumDecimals(ps.map((p) => p.unrealizedPnl)),
    }));
}

const latest = (times: Array<string | null>): string | null =>
  times.reduce<string | null>((a, t) => (t && (!a || Date.parse(t) > Date.parse(a)) ? t : a), null);

export function deskStatus(o: DeskObserved): DeskStatus {
  const d = o.deployment;
  const pairs = o.pairs.map((r) => pairView(o, r));
  const read = o.pairs.filter((r) => !r.error);
  const syncs = pairs.map((p) => p.inSync).filter((s): s is boolean => s !== null);
  const lb = d.status?.lastBackup;
  return {
    name: d.metadata.name ?? '',
    namespace: d.metadata.namespace ?? '',
    phase: d.status?.phase ?? 'Unknown',
    mode: d.spec.execution.mode,
    image: d.spec.image ?? pairs.find((p) => p.image)?.image ?? '',
    paused: d.spec.paused,
    desiredPairs: d.spec.pairs,
    readyPairs: d.status?.readyPairs ?? 0,
    pairs,
    orders: {
      open: pairs.reduce((n, p) => n + p.ordersOpen, 0),
      filledToday: pairs.reduce((n, p) => n + p.ordersFilledToday, 0),
    },
    positions: symbolTotals(read.flatMap((r) => r.positions ?? [])),
    wal: {
      entries: pairs.reduce((n, p) => n + (p.walEntries ?? 0), 0),
      lastCheckpoint: latest(pairs.map((p) => p.lastCheckpoint)),
    },
    lastBackup: lb?.time ? { time: lb.time, result: lb.result ?? '', message: lb.message ?? '' } : null,
    exchangeInSync: syncs.length === 0 ? null : syncs.every(Boolean),
    conditions: (d.status?.conditions ?? []).map(({ type, status, reason, message }) => ({
      type,
      status,
      reason,
      message,
    })),
    events: o.events,
    incomplete: o.pairs.filter((r) => r.error).map((r) => r.index),
  };
}
