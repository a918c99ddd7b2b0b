// Leader election on a coordination.k8s.io/v1 Lease, after client-go's: expiry is judged by how
// long *we* have seen the record unchanged (our clock), never by comparing clocks across hosts.
// A leader that cannot renew within renewDeadline steps down before its lease can expire.
import type { Logger } from 'pino';
import type { Clock } from './clock.ts';

export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: string;
  renewTime: string;
  leaseTransitions: number;
  resourceVersion?: string | undefined;
}

export interface LeaseStore {
  get(): Promise<LeaseRecord | undefined>;
  create(rec: LeaseRecord): Promise<LeaseRecord>;
  /** Fails (throws) when rec.resourceVersion is not the current one. */
  update(rec: LeaseRecord): Promise<LeaseRecord>;
}

export interface LeaderElectionOptions {
  store: LeaseStore;
  identity: string;
  clock: Clock;
  log: Logger;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private readonly o: Required<LeaderElectionOptions>;
  private observed: LeaseRecord | undefined;
  private observedAt = 0;
  private leading = false;

  constructor(opts: LeaderElectionOptions) {
    this.o = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...opts };
    if (this.o.renewDeadlineMs >= this.o.leaseDurationMs)
      throw new Error('renewDeadline must be shorter than the lease duration');
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns, leads and re-campaigns until `signal` aborts; then releases the lease if held. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) {
        if (!this.leading) {
          this.leading = true;
          this.o.log.info({ identity: this.o.identity }, 'became leader');
          this.o.onStartedLeading();
        }
        await this.renewLoop(signal);
        if (this.leading) {
          this.leading = false;
          if (!signal.aborted)
            this.o.log.warn({ identity: this.o.identity }, 'lost leadership: could not renew the lease');
          this.o.onStoppedLeading();
        }
      }
      if (signal.aborted) break;
      await this.o.clock.sleep(this.o.retryPeriodMs, signal);
    }
    await this.release();
  }

  private async renewLoop(signal: AbortSignal): Promise<void> {
    let lastRenew = this.o.clock.now();
    while (!signal.aborted) {
      await this.o.clock.sleep(this.o.retryPeriodMs, signal);
      if (signal.aborted) return;
      if (await this.tryAcquireOrRenew()) lastRenew = this.o.clock.now();
      else if (this.observed && this.observed.holderIdentity !== this.o.identity) return;
      if (this.o.clock.now() - lastRenew >= this.o.renewDeadlineMs) return;
    }
  }

  /** One attempt: true when we hold the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.o.clock.now();
    const fresh: LeaseRecord = {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    try {
      const cur = await this.o.store.get();
      if (!cur) {
        this.see(await this.o.store.create(fresh), now);
        return true;
      }
      if (!this.observed || this.observed.resourceVersion !== cur.resourceVersion) this.see(cur, now);
      const mine = cur.holderIdentity === this.o.identity;
      const expired = this.observedAt + cur.leaseDurationSeconds * 1000 <= now;
      if (!mine && cur.holderIdentity && !expired) return false;
      const next: LeaseRecord = mine
        ? { ...cur, renewTime: fresh.renewTime, leaseDurationSeconds: fresh.leaseDurationSeconds }
        : { ...fresh, leaseTransitions: cur.leaseTransitions + 1, resourceVersion: cur.resourceVersion };
      this.see(await this.o.store.update(next), now);
      return true;
    } catch (err) {
      this.o.log.warn({ err, identity: this.o.identity }, 'lease update failed');
      return false;
    }
  }

  private see(rec: LeaseRecord, at: number): void {
    this.observed = rec;
    this.observedAt = at;
  }

  /** Gives the lease up so a standby takes over at once instead of waiting for expiry. */
  async release(): Promise<void> {
    const cur = this.observed;
    if (!cur || cur.holderIdentity !== this.o.identity) return;
    try {
      const latest = await this.o.store.get();
      if (latest?.holderIdentity !== this.o.identity) return;
      await this.o.store.update({
        ...latest,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: microTime(this.o.clock.now()),
      });
      this.o.log.info({ identity: this.o.identity }, 'released the lease');
    } catch (err) {
      this.o.log.warn({ err }, 'could not release the lease');
    }
  }
}
