// What each ready engine reports of its WAL (GET /api/wal/status) and of its last reconciliation
// with the exchange (GET /api/exchange/reconciliation), polled in the background so a
// reconcile never waits on an engine: the deployment reconciler says which engine pods are ready
// (track) and reads the last answers (get) into status.pairs[] (walEntries, lastCheckpoint).
// A changed answer wakes the deployment; an engine that does not answer keeps its last answer
// and is asked again after a growing delay.
import type { Reconciliation, WalStatus } from '@veloz/api/http/contract';
import type { Logger } from 'pino';
import type { EngineAccess } from './engine-access.ts';
import { backoffMs } from './runtime/clock.ts';

export interface WalObservation {
  walEntries: number;
  lastCheckpoint?: string;
  /** What the engine's last reconciliation with the exchange found; absent from engines without one. */
  exchange?: ExchangeObservation;
}

/** The engine's GET /api/exchange/reconciliation, as the ExchangeInSync condition needs it. */
export interface ExchangeObservation {
  state: 'InSync' | 'OutOfSync' | 'ReconciliationFailed' | 'NotEnabled';
  /** Stable while the state is: a status is written only when something changed. */
  message: string;
}

export interface WalObserverOptions {
  engines: EngineAccess;
  log: Logger;
  /** Called with `namespace`, `deployment` when an engine's answer changed. */
  onChange: (namespace: string, deployment: string) => void;
  /** Time between two rounds of questions (default 30 s). */
  intervalMs?: number;
  /** Engines asked at once (default 4). */
  concurrency?: number;
}

interface Tracked {
  namespace: string;
  deployment: string;
  index: number;
  pod: string;
  last?: WalObservation;
  failures: number;
  notBefore: number;
}

/** The observation in an engine's answer, or why it is not one. */
export function parseWalStatus(body: unknown): WalObservation | string {
  // An engine of another version may answer otherwise: every field is checked, none trusted.
  const b = (body ?? {}) as Partial<WalStatus>;
  if (
    typeof b.durableSequence !== 'number' ||
    !Number.isSafeInteger(b.durableSequence) ||
    b.durableSequence < 0
  )
    return 'durableSequence is not a non-negative integer';
  const time = b.lastCheckpoint?.time;
  if (time !== undefined && (typeof time !== 'string' || Number.isNaN(Date.parse(time))))
    return 'lastCheckpoint.time is not a date-time';
  return { walEntries: b.durableSequence, ...(typeof time === 'string' ? { lastCheckpoint: time } : {}) };
}

/** The observation in an engine's reconciliation answer, or why it is not one. */
export function parseReconciliation(body: unknown): ExchangeObservation | string {
  const b = (body ?? {}) as Partial<Reconciliation>;
  if (typeof b.enabled !== 'boolean' || !Array.isArray(b.open)) return 'not a reconciliation answer';
  if (!b.enabled) return { state: 'NotEnabled', message: 'the engine trades on no exchange' };
  const open = b.open.filter((d) => typeof d.message === 'string');
  if (open.length > 0) {
    const more = open.length > 1 ? ` (and ${open.length - 1} more)` : '';
    return {
      state: 'OutOfSync',
      message: `${b.halted ? 'new orders halted: ' : ''}${open[0]!.message}${more}`,
    };
  }
  if (!b.lastRun) return 'no reconciliation has run yet';
  if (!b.lastRun.ok)
    return { state: 'ReconciliationFailed', message: `the exchange could not be asked: ${b.lastRun.error}` };
  return { state: 'InSync', message: 'the WAL agrees with the exchange' };
}

export class WalObserver {
  private readonly o: Required<Omit<WalObserverOptions, 'log' | 'engines' | 'onChange'>> & WalObserverOptions;
  /** By deployment `namespace/name`, then engine pod name. */
  private readonly tracked = new Map<string, Map<string, Tracked>>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;
  private readonly abort = new AbortController();

  constructor(opts: WalObserverOptions) {
    this.o = { intervalMs: 30_000, concurrency: 4, ...opts };
  }

  /** The engine pods of `namespace/deployment` to ask, by pair index; the others are forgotten. */
  track(namespace: string, deployment: string, pods: ReadonlyMap<number, string>): void {
    const key = `${namespace}/${deployment}`;
    const prev = this.tracked.get(key);
    if (pods.size === 0) {
      this.tracked.delete(key);
      return;
    }
    const next = new Map<string, Tracked>();
    for (const [index, pod] of pods) {
      next.set(pod, prev?.get(pod) ?? { namespace, deployment, index, pod, failures: 0, notBefore: 0 });
    }
    this.tracked.set(key, next);
  }

  /** The last answers of the tracked engines of `namespace/deployment`, by pair index. */
  get(namespace: string, deployment: string): Map<number, WalObservation> {
    const out = new Map<number, WalObservation>();
    for (const t of this.tracked.get(`${namespace}/${deployment}`)?.values() ?? [])
      if (t.last) out.set(t.index, t.last);
    return out;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    const tick = () => {
      this.round = this.askAll()
        .catch((err: unknown) => this.o.log.error({ err }, 'a round of WAL status reads failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.o.intervalMs).unref();
        });
    };
    // The first round comes soon: a new leader's status should not wait a whole interval.
    this.timer = setTimeout(tick, Math.min(this.o.intervalMs, 5_000)).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.round;
  }

  /** One round: every tracked engine whose backoff has passed, `concurrency` at a time. */
  async askAll(): Promise<void> {
    const now = Date.now();
    const due = [...this.tracked.values()].flatMap((m) => [...m.values()]).filter((t) => t.notBefore <= now);
    let next = 0;
    const worker = async () => {
      while (next < due.length && !this.stopped) await this.ask(due[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency, due.length) }, worker));
  }

  private async ask(t: Tracked): Promise<void> {
    let answer: WalObservation | string;
    try {
      const res = await this.o.engines.call<unknown>(
        t.namespace,
        t.pod,
        'GET',
        '/api/wal/status',
        undefined,
        this.abort.signal,
      );
      answer = res.status === 200 ? parseWalStatus(res.body) : `HTTP ${res.status}`;
    } catch (err) {
      answer = err instanceof Error ? err.message : String(err);
    }
    if (this.stopped) return;
    if (typeof answer === 'string') {
      t.notBefore = Date.now() + backoffMs(t.failures++, this.o.intervalMs, 10 * 60_000, 0.2);
      this.o.log.debug(
        { key: `${t.namespace}/${t.deployment}`, pod: t.pod, err: answer },
        'WAL status not read',
      );
      return;
    }
    const exchange = await this.askExchange(t);
    if (exchange) answer = { ...answer, exchange };
    t.failures = 0;
    t.notBefore = 0;
    // Still tracked (the pod may have gone while it was asked) and a different answer.
    const live = this.tracked.get(`${t.namespace}/${t.deployment}`)?.get(t.pod) === t;
    if (
      !live ||
      (t.last?.walEntries === answer.walEntries &&
        t.last.lastCheckpoint === answer.lastCheckpoint &&
        t.last.exchange?.state === answer.exchange?.state &&
        t.last.exchange?.message === answer.exchange?.message)
    )
      return;
    t.last = answer;
    this.o.onChange(t.namespace, t.deployment);
  }

  /** The engine's reconciliation, or the last one when this answer is not one (an older engine). */
  private async askExchange(t: Tracked): Promise<ExchangeObservation | undefined> {
    try {
      const res = await this.o.engines.call<unknown>(
        t.namespace,
        t.pod,
        'GET',
        '/api/exchange/reconciliation',
        undefined,
        this.abort.signal,
      );
      const seen = res.status === 200 ? parseReconciliation(res.body) : `HTTP ${res.status}`;
      if (typeof seen !== 'string') return seen;
      this.o.log.debug({ pod: t.pod, err: seen }, 'exchange reconciliation not read');
    } catch (err) {
      this.o.log.debug({ pod: t.pod, err }, 'exchange reconciliation not read');
    }
    return t.last?.exchange;
  }
}
