// The informers of the Prometheus Operator's kinds run only while the cluster serves its API
// (monitoring-discovery.ts says when that changes): installed while the operator runs, they are
// started; removed, they are stopped. Either way every controller watching them is woken, so each
// deployment renders with (or without) its ServiceMonitor and PrometheusRule. cert-manager's
// Certificate is switched the same way (CERT_MANAGER_KINDS).
import type { Logger } from 'pino';
import type { CachedKind } from './cache-transforms.ts';
import { RESOURCES, type ResourceRef } from './kube/resources.ts';

/** Watched only where monitoring.coreos.com/v1 is served. */
export const MONITORING_KINDS: Array<ResourceRef<CachedKind>> = [
  RESOURCES.serviceMonitor,
  RESOURCES.prometheusRule,
];

/** Watched only where cert-manager.io/v1 is served. */
export const CERT_MANAGER_KINDS: Array<ResourceRef<CachedKind>> = [RESOURCES.certificate];

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
  private readonly kinds: ReadonlyArray<ResourceRef<CachedKind>>;

  constructor(
    host: InformerHost,
    log: Logger,
    kinds: ReadonlyArray<ResourceRef<CachedKind>> = MONITORING_KINDS,
  ) {
    this.host = host;
    this.log = log;
    this.kinds = kinds;
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
        .closeInformers(this.kinds)
        .catch((err: unknown) =>
          this.log.warn(
            { err, kinds: this.kinds.map((k) => k.plural) },
            'closing the monitoring informers failed',
          ),
        );
    }
    this.host.requeueWatchersOf(this.kinds);
  }

  /** Resolves once informers stopped by a change have ended (the manager closes the others). */
  settled(): Promise<void> {
    return this.closing;
  }

  private start(): void {
    this.running = true;
    this.host.startInformers(this.kinds);
  }
}
