// Runs a reconciler over a work queue with bounded concurrency. Errors go back to the queue with
// per-key backoff; a TerminalError (permanent misconfiguration) is reported and not retried
// until the object changes.
import type { Logger } from 'pino';
import type { OperatorMetrics } from './metrics.ts';
import { WorkQueue } from './work-queue.ts';

export interface ReconcileResult {
  requeueAfterMs?: number;
}

export interface Reconciler {
  readonly kind: string;
  reconcile(key: string): Promise<ReconcileResult | void>;
}

/** A failure that retrying cannot fix: the object must change first. */
export class TerminalError extends Error {}

export interface ControllerOptions {
  workers: number;
  log: Logger;
  metrics: OperatorMetrics;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export class Controller {
  readonly queue: WorkQueue;
  private readonly reconciler: Reconciler;
  private readonly opts: ControllerOptions;
  private workers: Array<Promise<void>> = [];
  private running = false;

  constructor(reconciler: Reconciler, opts: ControllerOptions) {
    this.reconciler = reconciler;
    this.opts = opts;
    const kind = reconciler.kind;
    this.queue = new WorkQueue({
      baseDelayMs: opts.baseDelayMs ?? 500,
      maxDelayMs: opts.maxDelayMs ?? 5 * 60_000,
      onDepth: (d) => opts.metrics.queueDepth.set({ kind }, d),
      onWait: (s) => opts.metrics.queueWait.observe({ kind }, s),
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.workers = Array.from({ length: this.opts.workers }, () => this.work());
  }

  /** Stops taking keys and waits for the reconciles in flight. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.queue.shutDown();
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    const { metrics, log } = this.opts;
    const kind = this.reconciler.kind;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const t0 = performance.now();
      let outcome = 'success';
      try {
        const res = await this.reconciler.reconcile(key);
        this.queue.forget(key);
        if (res?.requeueAfterMs !== undefined) {
          outcome = 'requeue';
          this.queue.addAfter(key, res.requeueAfterMs);
        }
      } catch (err) {
        metrics.reconcileErrors.inc({ kind });
        if (err instanceof TerminalError) {
          outcome = 'terminal';
          this.queue.forget(key);
          log.warn(
            { key, kind, err: err.message },
            'reconcile failed permanently; waiting for the object to change',
          );
        } else {
          outcome = 'error';
          const delay = this.queue.addRateLimited(key);
          log.error({ key, kind, err, retryInMs: delay }, 'reconcile failed; will retry');
        }
      } finally {
        metrics.reconciles.inc({ kind, outcome });
        metrics.reconcileDuration.observe({ kind }, (performance.now() - t0) / 1000);
        this.queue.done(key);
      }
    }
  }
}
