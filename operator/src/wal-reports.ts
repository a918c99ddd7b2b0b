// The engines' WAL reports as the deployment reconciler reads them: only the leader asks the
// engines, so a WalObserver runs while this replica leads (a new one each term) and the reports
// are empty otherwise.
import type { WalReports } from './reconcilers/deployment.ts';
import type { Runnable } from './runtime/while-leading.ts';
import { WalObserver, type WalObservation, type WalObserverOptions } from './wal-observer.ts';

export class LeaderWalReports implements WalReports, Runnable {
  private readonly opts: WalObserverOptions;
  private observer: WalObserver | undefined;

  /** `intervalMs` 0 never asks (--wal-status-interval 0). */
  constructor(opts: WalObserverOptions & { intervalMs: number }) {
    this.opts = opts;
  }

  track(namespace: string, deployment: string, enginePods: ReadonlyMap<number, string>): void {
    this.observer?.track(namespace, deployment, enginePods);
  }

  get(namespace: string, deployment: string): ReadonlyMap<number, WalObservation> {
    return this.observer?.get(namespace, deployment) ?? new Map();
  }

  start(): void {
    if (this.observer || this.opts.intervalMs === 0) return;
    this.observer = new WalObserver(this.opts);
    this.observer.start();
  }

  async stop(): Promise<void> {
    const o = this.observer;
    this.observer = undefined;
    await o?.stop();
  }
}
