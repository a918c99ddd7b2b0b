// Whether the cluster serves the Prometheus Operator's API (monitoring.coreos.com/v1
// ServiceMonitor and PrometheusRule). Users install it before or after the operator, and may
// remove it: the answer is re-checked on a timer, and a change is reported (the manager then
// starts or stops the informers of those kinds and wakes every deployment). cert-manager's
// Certificate (cert-manager.io/v1, spec.gateway.tls.issuerRef) is discovered the same way.
import type { Logger } from 'pino';
import type { KubeClient } from './kube/client.ts';
import type { MonitoringDiscovery } from './reconcilers/deployment.ts';
import { backoffMs, realClock, type Clock } from './runtime/clock.ts';

export interface MonitoringApiOptions {
  client: Pick<KubeClient, 'serves'>;
  log: Logger;
  intervalMs: number;
  onChange: (served: boolean) => void;
  /** The question asked; the Prometheus Operator's kinds unless given. */
  probe?: (client: Pick<KubeClient, 'serves'>) => Promise<boolean>;
  /** The API's name in the logs. */
  api?: string;
}

/** Whether cert-manager's Certificate (cert-manager.io/v1) is served. */
export function certManagerApiServed(client: Pick<KubeClient, 'serves'>): Promise<boolean> {
  return client.serves('cert-manager.io', 'v1', 'certificates');
}

/** Whether ServiceMonitor and PrometheusRule (monitoring.coreos.com/v1) are both served. */
export async function monitoringApiServed(client: Pick<KubeClient, 'serves'>): Promise<boolean> {
  return (
    (await client.serves('monitoring.coreos.com', 'v1', 'servicemonitors')) &&
    (await client.serves('monitoring.coreos.com', 'v1', 'prometheusrules'))
  );
}

export class MonitoringApi implements MonitoringDiscovery {
  private readonly o: MonitoringApiOptions;
  private value: boolean | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: MonitoringApiOptions) {
    this.o = opts;
  }

  /** Asks the API server; on a change after the first answer, calls onChange. */
  async check(): Promise<boolean> {
    const served = await (this.o.probe ?? monitoringApiServed)(this.o.client);
    const before = this.value;
    this.value = served;
    if (before !== undefined && before !== served) {
      this.o.log.info({ served, api: this.api() }, 'an optional API appeared or went away');
      this.o.onChange(served);
    }
    return served;
  }

  served(): Promise<boolean> {
    return this.value === undefined ? this.check() : Promise.resolve(this.value);
  }

  /** Re-checks every intervalMs until stop(); a failed check keeps the last answer. */
  start(): void {
    const tick = () => {
      void this.check()
        .catch((err: unknown) =>
          this.o.log.warn({ err, api: this.api() }, 'API discovery failed; keeping the last answer'),
        )
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.o.intervalMs).unref();
        });
    };
    this.timer = setTimeout(tick, this.o.intervalMs).unref();
  }

  private api(): string {
    return this.o.api ?? 'monitoring.coreos.com/v1';
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * The first answer, at start. The API server may be briefly unreachable (restarting, not yet
 * listening): keep trying for a while instead of exiting; the client already retries refused
 * connections a few times.
 */
export async function discoverAtStart(
  api: Pick<MonitoringApi, 'check'>,
  log: Logger,
  clock: Clock = realClock,
): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await api.check();
    } catch (err) {
      if (attempt >= 8) throw err;
      const delayMs = backoffMs(attempt, 500, 10_000, 0.2);
      log.warn({ err, delayMs }, 'API discovery failed at start; retrying');
      await clock.sleep(delayMs);
    }
  }
}
