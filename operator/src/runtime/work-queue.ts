// A de-duplicating keyed work queue in the style of client-go's: a key is queued at most once,
// is handed to at most one worker at a time (a key added while it is being processed is queued
// again when the worker is done), and failed keys come back after a per-key exponential backoff.
// Two lanes (ADR 6): keys added as urgent -- an object whose spec the operator has not acted on
// yet -- are handed out before the others (status refreshes woken by a child, periodic requeues,
// retries), so under load a user's change waits for other users' changes only, not for hundreds
// of status passes.
import { backoffMs } from './clock.ts';

export interface WorkQueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  onDepth?: (depth: number) => void;
  onWait?: (seconds: number) => void;
}

export type Priority = 'urgent' | 'normal';

export class WorkQueue {
  private readonly urgentLane: string[] = [];
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  /** Dirty keys whose pending pass is urgent. */
  private readonly urgent = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly enqueuedAt = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private waiters: Array<(key: string | undefined) => void> = [];
  private drainWaiters: Array<() => void> = [];
  private shuttingDown = false;
  private readonly opts: Required<Omit<WorkQueueOptions, 'onDepth' | 'onWait'>> & WorkQueueOptions;

  constructor(opts: WorkQueueOptions = {}) {
    this.opts = { baseDelayMs: 500, maxDelayMs: 5 * 60_000, ...opts };
  }

  get length(): number {
    return this.urgentLane.length + this.queue.length;
  }

  get inFlight(): number {
    return this.processing.size;
  }

  add(key: string, priority: Priority = 'normal'): void {
    if (this.shuttingDown) return;
    if (this.dirty.has(key)) {
      if (priority === 'urgent' && !this.urgent.has(key)) {
        this.urgent.add(key);
        // Waiting in the normal lane: it moves up (a key being processed is pushed when done).
        const at = this.queue.indexOf(key);
        if (at >= 0) {
          this.queue.splice(at, 1);
          this.urgentLane.push(key);
        }
      }
      return;
    }
    this.dirty.add(key);
    if (priority === 'urgent') this.urgent.add(key);
    this.enqueuedAt.set(key, performance.now());
    if (this.processing.has(key)) return;
    this.push(key);
  }

  private push(key: string): void {
    const w = this.waiters.shift();
    if (w) {
      this.take(key);
      w(key);
    } else {
      (this.urgent.has(key) ? this.urgentLane : this.queue).push(key);
      this.opts.onDepth?.(this.length);
    }
  }

  private take(key: string): void {
    this.dirty.delete(key);
    this.urgent.delete(key);
    this.processing.add(key);
    const t = this.enqueuedAt.get(key);
    if (t !== undefined) this.opts.onWait?.((performance.now() - t) / 1000);
    this.enqueuedAt.delete(key);
  }

  /** The next key to process, or undefined once the queue is shut down and empty. */
  get(): Promise<string | undefined> {
    const key = this.urgentLane.shift() ?? this.queue.shift();
    if (key !== undefined) {
      this.opts.onDepth?.(this.length);
      this.take(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks a key processed; if it was added meanwhile it is queued again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) this.push(key);
    if (this.processing.size === 0) for (const d of this.drainWaiters.splice(0)) d();
  }

  /** Adds `key` after `ms`; an earlier pending deadline for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const cur = this.timers.get(key);
    if (cur && cur.at <= at) return;
    if (cur) clearTimeout(cur.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Adds `key` after its next backoff delay; returns that delay. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = backoffMs(n, this.opts.baseDelayMs, this.opts.maxDelayMs);
    this.addAfter(key, delay);
    return delay;
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Clears a key's backoff after a success. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Stops taking keys; resolves once every in-flight key is done. Queued keys are dropped. */
  async shutDown(): Promise<void> {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.urgentLane.length = 0;
    this.queue.length = 0;
    this.dirty.clear();
    this.urgent.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
    if (this.processing.size > 0) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }
}
