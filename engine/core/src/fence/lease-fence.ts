// Self-fencing (ADR 0018): the engine holds one coordination.k8s.io Lease for its pair and renews
// it every renew period. While it has not renewed it for the lease duration (the API server is
// out of reach, say on a partitioned node, or another holder has the Lease) it sends no new
// orders: the control plane may already have given its pair to a replacement. It cancels
// nothing: it cannot confirm anything it did not hear from the exchange, and cancels would be new
// writes too. It resumes by itself once a renewal succeeds.
//
// The deadline is measured on this process's clock from the start of its last successful
// renewal, which is never later than the renewTime the API server recorded: the engine stops
// before anyone else may take the Lease (another holder waits a whole duration from when it saw
// the last renewal, as client-go's leader election does; so does this one).
import type { Logger } from 'pino';
import { LeaseConflict, type Lease, type LeaseApi } from './lease-api.ts';

export interface FenceClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: FenceClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    }),
};

export type RenewFailure = 'unreachable' | 'held' | 'conflict' | 'refused';

export interface FenceHooks {
  onFenced(fenced: boolean): void;
  onRenewFailure(kind: RenewFailure): void;
}

export interface LeaseFenceOptions {
  api: LeaseApi;
  name: string;
  holder: string;
  durationMs: number;
  renewMs: number;
  clock?: FenceClock;
  log: Logger;
  hooks?: FenceHooks;
}

/** MicroTime as the API server writes it: six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaseFence {
  private readonly o: LeaseFenceOptions;
  private readonly clock: FenceClock;
  /** Local time at the start of the last successful renewal. */
  private renewedAt: number | undefined;
  /** Why the last attempt failed, or '' after a success. */
  private lastFailure = 'the Lease is not held yet';
  /** What the hooks and the log were last told. */
  private reported = true;
  /** Another holder's record and when this process first saw it: the Lease expires from then. */
  private observed: { key: string; at: number } | undefined;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(opts: LeaseFenceOptions) {
    this.o = opts;
    this.clock = opts.clock ?? realClock;
    opts.hooks?.onFenced(true);
  }

  /** Why new orders are refused now, or undefined while the Lease is held. */
  fenced(): string | undefined {
    const now = this.clock.now();
    const why =
      this.renewedAt === undefined
        ? `the engine does not hold its Lease ${this.o.name}: ${this.lastFailure}`
        : now - this.renewedAt >= this.o.durationMs
          ? `the engine could not renew its Lease ${this.o.name} for ${Math.round((now - this.renewedAt) / 1000)} s (lease duration ${this.o.durationMs / 1000} s): ${this.lastFailure}`
          : undefined;
    this.report(why);
    return why;
  }

  private report(why: string | undefined): void {
    const fenced = why !== undefined;
    if (fenced === this.reported) return;
    this.reported = fenced;
    this.o.hooks?.onFenced(fenced);
    if (this.abort.signal.aborted) return;
    if (fenced)
      this.o.log.error(
        { lease: this.o.name, reason: why },
        'fenced: refusing new orders until the Lease is renewed',
      );
    else this.o.log.warn({ lease: this.o.name }, 'holding the Lease: accepting new orders');
  }

  /** Renews now, then every renew period until close(). */
  start(): void {
    this.loop ??= (async () => {
      while (!this.abort.signal.aborted) {
        await this.renew();
        await this.clock.sleep(this.o.renewMs, this.abort.signal);
      }
    })();
  }

  /** One attempt to acquire or renew the Lease. */
  async renew(): Promise<void> {
    const t0 = this.clock.now();
    // A renewal that takes longer than the renew period is abandoned: the next one starts afresh.
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.o.renewMs)]);
    let failure: { kind: RenewFailure; message: string } | undefined;
    try {
      const held = await this.acquireOrRenew(t0, signal);
      if (held !== undefined) {
        // Someone else holds it: whatever this process held is gone at once.
        this.renewedAt = undefined;
        failure = { kind: 'held', message: held };
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      failure =
        err instanceof LeaseConflict
          ? { kind: 'conflict', message }
          : { kind: /HTTP (401|403)/.test(message) ? 'refused' : 'unreachable', message };
    }
    if (this.abort.signal.aborted) return;
    if (failure) {
      this.lastFailure = failure.message;
      this.o.hooks?.onRenewFailure(failure.kind);
      this.o.log.warn(
        { lease: this.o.name, kind: failure.kind, err: failure.message },
        'cannot renew the Lease',
      );
    } else {
      this.renewedAt = t0;
      this.lastFailure = '';
    }
    this.fenced();
  }

  /** Undefined when this process holds the Lease now; else who does. */
  private async acquireOrRenew(now: number, signal: AbortSignal): Promise<string | undefined> {
    const { api, holder, name } = this.o;
    const durationSeconds = Math.ceil(this.o.durationMs / 1000);
    const lease = await api.get(signal);
    if (!lease) {
      await api.create(
        {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name },
          spec: {
            holderIdentity: holder,
            leaseDurationSeconds: durationSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          },
        },
        signal,
      );
      return undefined;
    }
    const spec = lease.spec;
    const current = spec.holderIdentity ?? '';
    if (current === holder) {
      await api.replace(
        withSpec(lease, { ...spec, leaseDurationSeconds: durationSeconds, renewTime: microTime(now) }),
        signal,
      );
      return undefined;
    }
    if (current !== '' && !this.expired(lease, now)) return `the Lease ${name} is held by ${current}`;
    await api.replace(
      withSpec(lease, {
        holderIdentity: holder,
        leaseDurationSeconds: durationSeconds,
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + 1,
      }),
      signal,
    );
    this.o.log.warn({ lease: name, previous: current || null }, 'took the Lease');
    return undefined;
  }

  /** Whether another holder's Lease has gone unrenewed for its duration, as this process saw it. */
  private expired(lease: Lease, now: number): boolean {
    const key = `${lease.spec.holderIdentity ?? ''}|${lease.spec.renewTime ?? ''}|${lease.metadata.resourceVersion ?? ''}`;
    if (this.observed?.key !== key) this.observed = { key, at: now };
    const duration = (lease.spec.leaseDurationSeconds ?? this.o.durationMs / 1000) * 1000;
    return now >= this.observed.at + duration;
  }

  /** Stops renewing and, when it holds the Lease, hands it back so a successor need not wait. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.loop;
    if (this.renewedAt === undefined) return;
    this.renewedAt = undefined;
    this.lastFailure = 'the engine is shutting down';
    const signal = AbortSignal.timeout(this.o.renewMs);
    try {
      const lease = await this.o.api.get(signal);
      if (lease?.spec.holderIdentity === this.o.holder)
        await this.o.api.replace(
          withSpec(lease, {
            ...lease.spec,
            holderIdentity: null,
            leaseDurationSeconds: 1,
            renewTime: microTime(this.clock.now()),
          }),
          signal,
        );
    } catch (err) {
      this.o.log.warn(
        { lease: this.o.name, err: err instanceof Error ? err.message : String(err) },
        'cannot release the Lease; it expires by itself',
      );
    }
  }
}

function withSpec(lease: Lease, spec: Lease['spec']): Lease {
  return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: lease.metadata, spec };
}
