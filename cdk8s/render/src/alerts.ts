// The alerts of PrometheusRule `X`. Engine metric names are those of
// engine/core/src/metrics/engine-metrics.ts; backup and readiness alerts use kube-state-metrics. The
// WAL shipping alerts come only with wal.postgres: a desk that ships nothing has nothing to watch.
import { names } from '@veloz/api/names';
import { runbookUrl } from '@veloz/api/runbooks';
import { backupStaleAfterSeconds, maxGapSeconds } from '@veloz/api/schedule';

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export function alertRules(
  name: string,
  namespace: string | undefined,
  opts: {
    schedule: string;
    timeZone?: string;
    latencySeconds: string;
    /** Base of the runbook_url annotations (docs/runbooks/alerts.md, one section per alert). */
    runbookBaseUrl: string;
    backups: boolean;
    walShipping: boolean;
    /** spec.backup.verify.schedule when restore drills run (ADR 0024). */
    drillSchedule?: string;
  },
): AlertRule[] {
  // Without a namespace (`npm run synth` of a file without one) the names alone select.
  const ns = namespace ? `namespace="${namespace}", ` : '';
  const n = names(name);
  const engines = `${ns}pod=~"${n.enginePodPattern}"`;
  const sets = `${ns}statefulset=~"${n.pairStatefulSetPattern}"`;
  const labels = (severity: string) => ({ severity, veloz_deployment: name });
  const rules: AlertRule[] = [
    {
      alert: 'VelozHighOrderLatency',
      expr: `histogram_quantile(0.99, sum by (pod, le) (rate(veloz_order_latency_seconds_bucket{${engines}}[5m]))) > ${opts.latencySeconds}`,
      for: '10m',
      labels: labels('warning'),
      annotations: {
        summary: `VeloZ ${name}: p99 order latency above ${opts.latencySeconds}s`,
        description:
          '{{ $labels.pod }} acknowledges orders slowly (p99 {{ $value }}s); check WAL fsync latency and CPU.',
      },
    },
    {
      alert: 'VelozWebSocketDisconnects',
      expr: `increase(veloz_ws_disconnects_total{${engines}}[15m]) > 3`,
      for: '0m',
      labels: labels('warning'),
      annotations: {
        summary: `VeloZ ${name}: market data WebSocket keeps disconnecting`,
        description: '{{ $labels.pod }} lost its market data stream {{ $value }} times in 15 minutes.',
      },
    },
    {
      alert: 'VelozHighErrorRate',
      expr: `sum by (pod) (rate(veloz_http_request_duration_seconds_count{${engines}, status=~"5.."}[5m])) / sum by (pod) (rate(veloz_http_request_duration_seconds_count{${engines}}[5m])) > 0.05`,
      for: '10m',
      labels: labels('warning'),
      annotations: {
        summary: `VeloZ ${name}: more than 5% of engine requests fail`,
        description: '{{ $labels.pod }} answers {{ $value | humanizePercentage }} of requests with 5xx.',
      },
    },
    {
      alert: 'VelozWALCorruption',
      expr: `veloz_wal_corrupted_entries{${engines}} > 0`,
      for: '0m',
      labels: labels('critical'),
      annotations: {
        summary: `VeloZ ${name}: corrupt WAL records found`,
        description:
          '{{ $labels.pod }} found {{ $value }} corrupt WAL records at its last recovery; run `veloz wal verify` and see the WAL runbook.',
      },
    },
    {
      alert: 'VelozWALWriteFailure',
      expr: `veloz_wal_up{${engines}} == 0`,
      for: '1m',
      labels: labels('critical'),
      annotations: {
        summary: `VeloZ ${name}: WAL does not accept writes`,
        description: '{{ $labels.pod }} cannot write its WAL: no order can be acknowledged.',
      },
    },
    {
      alert: 'VelozPairNotReady',
      expr: `kube_statefulset_replicas{${sets}} - kube_statefulset_status_replicas_ready{${sets}} > 0`,
      for: '10m',
      labels: labels('warning'),
      annotations: {
        summary: `VeloZ ${name}: a gateway/engine pair is not ready`,
        description: '{{ $value }} pods of {{ $labels.statefulset }} are not ready.',
      },
    },
    {
      alert: 'VelozEngineNotReady',
      expr: `veloz_ready{${engines}} == 0`,
      for: '5m',
      labels: labels('warning'),
      annotations: {
        summary: `VeloZ ${name}: engine not ready`,
        description: '{{ $labels.pod }} reports not ready.',
      },
    },
    {
      alert: 'VelozExchangeOutOfSync',
      // Only engines that trade on an exchange export it; a failed run (exchange unreachable)
      // counts too, since nothing was checked.
      expr: `veloz_exchange_in_sync{${engines}} == 0`,
      for: '2m',
      labels: labels('critical'),
      annotations: {
        summary: `VeloZ ${name}: the engine's WAL and the exchange disagree`,
        description:
          '{{ $labels.pod }} found differences with the exchange that it cannot repair, or cannot reach the exchange to compare; unrepaired differences halt new orders. GET /api/exchange/reconciliation lists them.',
      },
    },
    {
      alert: 'VelozStrategyHalted',
      // The gauge is set for as long as the halt holds (it is in the WAL): the alert stays until
      // a person resumes the strategy, never by itself.
      expr: `max by (pod, strategy, guardrail) (veloz_strategy_halted{${engines}}) == 1`,
      for: '0m',
      labels: labels('warning'),
      annotations: {
        summary: `VeloZ ${name}: a strategy was halted by a guardrail`,
        description:
          'Strategy {{ $labels.strategy }} crossed its {{ $labels.guardrail }} guardrail on {{ $labels.pod }}: it stopped there and its open orders were cancelled. VelozStrategy condition Halted names the value and the limit; spec.resumeAfter resumes it.',
      },
    },
  ];
  if (opts.walShipping) {
    rules.push(
      {
        alert: 'VelozWALShippingLag',
        expr: `veloz_wal_ship_lag_entries{${engines}} > 10000`,
        for: '10m',
        labels: labels('warning'),
        annotations: {
          summary: `VeloZ ${name}: WAL shipping to PostgreSQL is falling behind`,
          description:
            '{{ $labels.pod }} has {{ $value }} durable WAL records not yet shipped to PostgreSQL.',
        },
      },
      {
        alert: 'VelozWALShippingErrors',
        expr: `sum by (pod, reason) (increase(veloz_wal_ship_errors_total{${engines}}[15m])) > 0`,
        for: '0m',
        labels: labels('warning'),
        annotations: {
          summary: `VeloZ ${name}: WAL shipping to PostgreSQL fails`,
          description:
            '{{ $labels.pod }} failed to ship its WAL {{ $value | humanize }} times in 15 minutes (reason {{ $labels.reason }}).',
        },
      },
    );
  }
  if (opts.backups) {
    // The CronJob names its Jobs `<CronJob>-<scheduled time>`.
    const job = `${ns}job_name=~"${n.backupCronJob}-.*"`;
    const cron = `${ns}cronjob="${n.backupCronJob}"`;
    // The same threshold as condition BackupReady=False/BackupStale (operator status).
    const stale = backupStaleAfterSeconds(opts.schedule, opts.timeZone);
    rules.push({
      alert: 'VelozBackupFailed',
      expr: `max(kube_job_status_failed{${job}}) > 0`,
      for: '0m',
      labels: labels('warning'),
      annotations: {
        summary: `VeloZ ${name}: WAL backup job failed`,
        description: 'A run of the WAL backup CronJob failed; see the job logs.',
      },
    });
    // A schedule that does not parse makes no CronJob (the API server rejects it): nothing to be late.
    if (stale !== undefined) {
      rules.push({
        alert: 'VelozBackupStale',
        expr: `time() - max(kube_cronjob_status_last_successful_time{${cron}}) > ${stale}`,
        for: '0m',
        labels: labels('critical'),
        annotations: {
          summary: `VeloZ ${name}: no successful WAL backup for ${stale / 60} minutes`,
          description:
            'The WAL backup CronJob has not succeeded recently; recovery would lose recent orders.',
        },
      });
    }
  }
  if (opts.backups && opts.drillSchedule !== undefined) {
    const job = `${ns}job_name=~"${n.restoreDrillCronJob}-.*"`;
    const cron = `${ns}cronjob="${n.restoreDrillCronJob}"`;
    // The same threshold as condition BackupVerified=False/DrillStale (operator status).
    const gap = maxGapSeconds(opts.drillSchedule, opts.timeZone);
    rules.push({
      alert: 'VelozRestoreDrillFailed',
      expr: `max(kube_job_status_failed{${job}}) > 0`,
      for: '0m',
      labels: labels('critical'),
      annotations: {
        summary: `VeloZ ${name}: a restore drill failed`,
        description:
          'The newest backup of a pair did not restore, replay or match its manifest: condition BackupVerified of the VelozDeployment names what mismatched.',
      },
    });
    if (gap !== undefined) {
      rules.push({
        alert: 'VelozRestoreDrillStale',
        expr: `time() - max(kube_cronjob_status_last_successful_time{${cron}}) > ${2 * gap}`,
        for: '0m',
        labels: labels('warning'),
        annotations: {
          summary: `VeloZ ${name}: no successful restore drill for ${(2 * gap) / 3600} hours`,
          description: 'Nothing has proven recently that the backups restore into a working engine.',
        },
      });
    }
  }
  // Every alert links to its section of docs/runbooks/alerts.md.
  return rules.map((r) => ({
    ...r,
    annotations: { runbook_url: runbookUrl(opts.runbookBaseUrl, r.alert), ...r.annotations },
  }));
}
