// Whether the cluster serves the Prometheus Operator's API (monitoring.coreos.com/v1
// ServiceMonitor and PrometheusRule). Users install it before or after the operator, and may
// remove it: the answer is re-checked on a timer, and a change is reported (the manager then
// starts or stops the informers of those kinds and wakes every deployment).
import type { Logger } from 'pino';
import type { KubeClient } from './kube/client.ts';
import type { MonitoringDiscovery } from './reconcilers/deployment.ts';
import { backoffMs, realClock, type Clock } from './runtime/clock.ts';

export interface MonitoringApiOptions {
  client: Pick<KubeClient, 'serves'>;
  log: Logger;
  intervalMs: number;
  onChange: (served: boolean) => void;
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
    const served = await monitoringApiServed(this.o.client);
    const before = this.value;
    this.value = served;
    if (before !== undefined && before !== served) {
      this.o.log.info({ served }, 'the monitoring.coreos.com/v1 API appeared or went away');
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
          this.o.log.warn({ err }, 'API discovery failed; keeping the last answer about monitoring'),
        )
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.o.intervalMs).unref();
        });
    };
    this.timer = setTimeout(tick, this.o.intervalMs).unref();
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
