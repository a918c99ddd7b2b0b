// The informers of the Prometheus Operator's kinds run only while the cluster serves its API
// (monitoring-discovery.ts says when that changes): installed while the operator runs, they are
// started; removed, they are stopped. Either way every controller watching them is woken, so each
// deployment renders with (or without) its ServiceMonitor and PrometheusRule.
import type { Logger } from 'pino';
import type { CachedKind } from './cache-transforms.ts';
import { RESOURCES, type ResourceRef } from './kube/resources.ts';

/** Watched only where monitoring.coreos.com/v1 is served. */
export const MONITORING_KINDS: Array<ResourceRef<CachedKind>> = [
  RESOURCES.serviceMonitor,
  RESOURCES.prometheusRule,
];

/** What the switch needs of the controller manager. */
export interface InformerHost {
  startInformers(kinds: ReadonlyArray<ResourceRef<CachedKind>>): void;
  closeInformers(kinds: ReadonlyArray<ResourceRef<CachedKind>>): Promise<void>;
  requeueWatchersOf(kinds: ReadonlyArray<ResourceRef<CachedKind>>): void;
}

export class MonitoringInformers {
  private readonly host: InformerHost;
  private readonly log: Logger;
  private running = false;
  private closing: Promise<void> = Promise.resolve();

  constructor(host: InformerHost, log: Logger) {
    this.host = host;
    this.log = log;
  }

  /** At start: the informers run if the API is served; nobody is woken (nothing runs yet). */
  init(served: boolean): void {
    if (served) this.start();
  }

  /** The API appeared (true) or went away (false). */
  onChange(served: boolean): void {
    if (served && !this.running) this.start();
    if (!served && this.running) {
      this.running = false;
      // Closing only waits for the watches to end; the cache has stopped reading them already.
      this.closing = this.host
        .closeInformers(MONITORING_KINDS)
        .catch((err: unknown) => this.log.warn({ err }, 'closing the monitoring informers failed'));
    }
    this.host.requeueWatchersOf(MONITORING_KINDS);
  }

  /** Resolves once informers stopped by a change have ended (the manager closes the others). */
  settled(): Promise<void> {
    return this.closing;
  }

  private start(): void {
    this.running = true;
    this.host.startInformers(MONITORING_KINDS);
  }
}
