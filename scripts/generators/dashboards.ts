// The Grafana dashboards shipped in the chart (charts/veloz-operator/dashboards/*.json), written
// here as data so a test can check every query against the metrics the code registers.
import prettier from '@prettier/sync';
import { join } from 'node:path';
import { names } from '@veloz/api/names';
import { CHART_DIR } from './chart-crds.ts';

export interface Target {
  expr: string;
  legend: string;
}

export interface PanelSpec {
  title: string;
  description: string;
  type: 'timeseries' | 'stat';
  unit: string;
  targets: Target[];
  /** Grid width (of 24). */
  width?: number;
}

export interface DashboardSpec {
  file: string;
  uid: string;
  title: string;
  description: string;
  /** Which selector variables the dashboard has. */
  scope: 'deployment' | 'operator';
  rows: Array<{ title: string; panels: PanelSpec[] }>;
}

/** The engines of the selected VelozDeployment (Grafana fills in `$deployment`). */
const E = `namespace="$namespace", pod=~"${names('$deployment').enginePodPattern}"`;
/** The operator replicas, by the job of their metrics Service. */
const O = 'namespace="$namespace", job=~"$job"';
const R = '$__rate_interval';

const ts = (
  title: string,
  description: string,
  unit: string,
  targets: Target[],
  width?: number,
): PanelSpec => ({ title, description, type: 'timeseries', unit, targets, ...(width ? { width } : {}) });
const stat = (title: string, description: string, unit: string, targets: Target[]): PanelSpec => ({
  title,
  description,
  type: 'stat',
  unit,
  targets,
  width: 6,
});
const t = (expr: string, legend: string): Target => ({ expr, legend });
const quantiles = (metric: string, sel: string, by: string, legendPrefix: string): Target[] =>
  [0.5, 0.99].map((q) =>
    t(
      `histogram_quantile(${q}, sum by (${by}le) (rate(${metric}_bucket{${sel}}[${R}])))`,
      `${legendPrefix}p${q * 100}`,
    ),
  );

const OPEN = 'NEW|SUBMITTED|ACCEPTED|PARTIALLY_FILLED|PENDING_CANCEL';

export const DASHBOARDS: DashboardSpec[] = [
  {
    file: 'trading.json',
    uid: 'veloz-trading',
    title: 'VeloZ / Trading',
    description: 'Orders, fills, rejections, PnL, positions and latency of one VelozDeployment.',
    scope: 'deployment',
    rows: [
      {
        title: 'Orders',
        panels: [
          stat('Engines ready', 'Engines reporting ready (veloz_ready).', 'none', [
            t(`sum(veloz_ready{${E}})`, 'ready'),
          ]),
          stat('Open orders', 'Orders not yet finished, over all engines.', 'none', [
            t(`sum(veloz_orders{${E}, status=~"${OPEN}"})`, 'open'),
          ]),
          stat('Fills (1h)', 'Fills in the last hour.', 'none', [
            t(`sum(increase(veloz_fills_total{${E}}[1h]))`, 'fills'),
          ]),
          stat('Rejections (1h)', 'Orders rejected before acceptance in the last hour.', 'none', [
            t(`sum(increase(veloz_order_rejections_total{${E}}[1h]))`, 'rejections'),
          ]),
          ts('Order status transitions', 'Orders entering each status per second.', 'ops', [
            t(`sum by (status) (rate(veloz_order_status_transitions_total{${E}}[${R}]))`, '{{status}}'),
          ]),
          ts('Orders by status', 'Orders held in memory by status.', 'none', [
            t(`sum by (status) (veloz_orders{${E}})`, '{{status}}'),
          ]),
          ts('Fills', 'Fills per second by symbol.', 'ops', [
            t(`sum by (symbol) (rate(veloz_fills_total{${E}}[${R}]))`, '{{symbol}}'),
          ]),
          ts('Rejections by reason', 'Risk and validation rejections per second (docs/engine.md).', 'ops', [
            t(`sum by (reason) (rate(veloz_order_rejections_total{${E}}[${R}]))`, '{{reason}}'),
          ]),
        ],
      },
      {
        title: 'PnL and positions',
        panels: [
          ts('Realized PnL', 'Realized PnL in quote units by symbol, over all engines.', 'none', [
            t(`sum by (symbol) (veloz_pnl_realized{${E}})`, '{{symbol}}'),
          ]),
          ts('Unrealized PnL', 'Unrealized PnL at the current mark, by symbol.', 'none', [
            t(`sum by (symbol) (veloz_pnl_unrealized{${E}})`, '{{symbol}}'),
          ]),
          ts('Net position', 'Net position in base units per engine and symbol.', 'none', [
            t(`veloz_position{${E}}`, '{{pod}} {{symbol}}'),
          ]),
          ts(
            'Strategy orders and errors',
            'Orders placed (total) and errors per second, by strategy.',
            'none',
            [
              t(`sum by (strategy) (veloz_strategy_orders_placed{${E}})`, 'placed {{strategy}}'),
              t(`sum by (strategy) (rate(veloz_strategy_errors_total{${E}}[${R}]))`, 'errors/s {{strategy}}'),
            ],
          ),
          ts(
            'Strategies halted by a guardrail',
            'Engines on which each strategy is halted, by the guardrail crossed (ADR 0020); alert VelozStrategyHalted.',
            'none',
            [t(`sum by (strategy, guardrail) (veloz_strategy_halted{${E}})`, '{{strategy}} {{guardrail}}')],
          ),
        ],
      },
      {
        title: 'Latency',
        panels: [
          ts(
            'Order acknowledgement latency',
            'Receipt to durable acknowledgement (WAL fsync included); alert VelozHighOrderLatency.',
            's',
            quantiles('veloz_order_latency_seconds', E, '', ''),
          ),
          ts('HTTP latency p99 by route', 'Engine HTTP request latency, 99th percentile.', 's', [
            t(
              `histogram_quantile(0.99, sum by (route, le) (rate(veloz_http_request_duration_seconds_bucket{${E}}[${R}])))`,
              '{{route}}',
            ),
          ]),
          ts(
            'HTTP 5xx ratio',
            'Share of engine requests answered 5xx; alert VelozHighErrorRate.',
            'percentunit',
            [
              t(
                `sum(rate(veloz_http_request_duration_seconds_count{${E}, status=~"5.."}[${R}])) / sum(rate(veloz_http_request_duration_seconds_count{${E}}[${R}]))`,
                '5xx',
              ),
            ],
          ),
          ts('Event stream clients', 'Connected SSE clients per engine.', 'none', [
            t(`veloz_sse_clients{${E}}`, '{{pod}}'),
          ]),
        ],
      },
    ],
  },
  {
    file: 'system.json',
    uid: 'veloz-system',
    title: 'VeloZ / System',
    description: 'WAL, market data connectivity, backups and process health of one VelozDeployment.',
    scope: 'deployment',
    rows: [
      {
        title: 'WAL',
        panels: [
          stat(
            'WAL accepting writes',
            '1 per engine whose WAL accepts writes; alert VelozWALWriteFailure.',
            'none',
            [t(`sum(veloz_wal_up{${E}})`, 'up')],
          ),
          stat('Corrupt WAL records', 'Found at the last recovery; alert VelozWALCorruption.', 'none', [
            t(`sum(veloz_wal_corrupted_entries{${E}})`, 'corrupt'),
          ]),
          stat(
            'Torn tail bytes',
            'Cut from the WAL tail at the last recovery (kept in quarantine/).',
            'bytes',
            [t(`sum(veloz_wal_torn_tail_bytes{${E}})`, 'torn')],
          ),
          stat('Replay time', 'Longest WAL recovery and replay at the last start-up.', 's', [
            t(`max(veloz_wal_replay_duration_seconds{${E}})`, 'replay'),
          ]),
          ts('WAL throughput', 'Records and bytes written per second.', 'none', [
            t(`sum by (pod) (rate(veloz_wal_entries_written_total{${E}}[${R}]))`, 'records/s {{pod}}'),
            t(`sum by (pod) (rate(veloz_wal_bytes_written_total{${E}}[${R}]))`, 'bytes/s {{pod}}'),
          ]),
          ts(
            'fsync latency',
            'fdatasync per group-commit batch.',
            's',
            quantiles('veloz_wal_fsync_duration_seconds', E, 'pod, ', '{{pod}} '),
          ),
          ts('Group commit batch size', 'Average records per batch.', 'none', [
            t(
              `sum by (pod) (rate(veloz_wal_batch_entries_sum{${E}}[${R}])) / sum by (pod) (rate(veloz_wal_batch_entries_count{${E}}[${R}]))`,
              '{{pod}}',
            ),
          ]),
          ts('Rotations and checkpoints', 'Per hour.', 'none', [
            t(`sum by (pod) (increase(veloz_wal_rotations_total{${E}}[1h]))`, 'rotations {{pod}}'),
            t(`sum by (pod) (increase(veloz_wal_checkpoints_total{${E}}[1h]))`, 'checkpoints {{pod}}'),
          ]),
          ts('Replay at start-up', 'Records replayed and the time it took, per engine.', 'none', [
            t(`veloz_wal_replayed_entries{${E}}`, 'records {{pod}}'),
            t(`veloz_wal_replay_duration_seconds{${E}}`, 'seconds {{pod}}'),
          ]),
          ts('Last durable sequence', 'Grows with every durable record.', 'none', [
            t(`veloz_wal_last_sequence{${E}}`, '{{pod}}'),
          ]),
        ],
      },
      {
        title: 'Market data',
        panels: [
          ts(
            'WebSocket disconnects',
            'Market data stream disconnects; alert VelozWebSocketDisconnects.',
            'none',
            [t(`sum by (pod) (increase(veloz_ws_disconnects_total{${E}}[${R}]))`, '{{pod}}')],
          ),
          ts('Market updates', 'Market data updates processed per second.', 'ops', [
            t(`sum by (symbol) (rate(veloz_market_updates_total{${E}}[${R}]))`, '{{symbol}}'),
          ]),
        ],
      },
      {
        title: 'Backups (kube-state-metrics)',
        panels: [
          ts('Backup age', 'Time since the WAL backup CronJob last succeeded; alert VelozBackupStale.', 's', [
            t(
              `time() - max(kube_cronjob_status_last_successful_time{namespace="$namespace", cronjob="${names('$deployment').backupCronJob}"})`,
              'age',
            ),
          ]),
          ts('Failed backup jobs', 'Backup Jobs with failed pods; alert VelozBackupFailed.', 'none', [
            t(
              `sum(kube_job_status_failed{namespace="$namespace", job_name=~"${names('$deployment').backupCronJob}-.*"})`,
              'failed',
            ),
          ]),
        ],
      },
      {
        title: 'Process',
        panels: [
          ts('CPU', 'CPU seconds per second, per engine.', 'none', [
            t(`rate(veloz_process_cpu_seconds_total{${E}}[${R}])`, '{{pod}}'),
          ]),
          ts('Resident memory', 'Per engine.', 'bytes', [
            t(`veloz_process_resident_memory_bytes{${E}}`, '{{pod}}'),
          ]),
          ts('Event loop lag p99', 'Node.js event loop lag per engine.', 's', [
            t(`veloz_nodejs_eventloop_lag_p99_seconds{${E}}`, '{{pod}}'),
          ]),
        ],
      },
    ],
  },
  {
    file: 'operator.json',
    uid: 'veloz-operator',
    title: 'VeloZ / Operator',
    description: 'Reconcile rate, errors, queue depth, API traffic and leadership of the VeloZ operator.',
    scope: 'operator',
    rows: [
      {
        title: 'Reconciles',
        panels: [
          stat(
            'Leader',
            'Replicas holding the Lease (exactly 1 expected); alert VelozOperatorNoLeader.',
            'none',
            [t(`sum(veloz_operator_leader{${O}})`, 'leaders')],
          ),
          stat('Queue depth', 'Keys waiting to be reconciled.', 'none', [
            t(`sum(veloz_operator_queue_depth{${O}})`, 'queued'),
          ]),
          stat('Reconcile errors (1h)', 'Failed reconciles in the last hour.', 'none', [
            t(`sum(increase(veloz_operator_reconcile_errors_total{${O}}[1h]))`, 'errors'),
          ]),
          stat('Informer restarts (1h)', 'Watches restarted (gone, stall, error).', 'none', [
            t(`sum(increase(veloz_operator_informer_restarts_total{${O}}[1h]))`, 'restarts'),
          ]),
          ts('Reconcile rate', 'Reconciles per second by kind and outcome.', 'ops', [
            t(
              `sum by (kind, outcome) (rate(veloz_operator_reconcile_total{${O}}[${R}]))`,
              '{{kind}} {{outcome}}',
            ),
          ]),
          ts(
            'Reconcile errors',
            'Failed reconciles per second by kind; alert VelozOperatorReconcileErrors.',
            'ops',
            [t(`sum by (kind) (rate(veloz_operator_reconcile_errors_total{${O}}[${R}]))`, '{{kind}}')],
          ),
          ts(
            'Reconcile duration',
            'By kind.',
            's',
            quantiles('veloz_operator_reconcile_duration_seconds', O, 'kind, ', '{{kind}} '),
          ),
          ts('Queue depth and wait', 'Keys waiting, and p99 of the time they waited.', 'none', [
            t(`sum by (kind) (veloz_operator_queue_depth{${O}})`, 'depth {{kind}}'),
            t(
              `histogram_quantile(0.99, sum by (kind, le) (rate(veloz_operator_queue_wait_seconds_bucket{${O}}[${R}])))`,
              'wait p99 {{kind}} (s)',
            ),
          ]),
        ],
      },
      {
        title: 'Kubernetes API',
        panels: [
          ts('API requests', 'Requests per second by verb, kind and HTTP code.', 'ops', [
            t(
              `sum by (verb, kind, code) (rate(veloz_operator_api_requests_total{${O}}[${R}]))`,
              '{{verb}} {{kind}} {{code}}',
            ),
          ]),
          ts('API latency p99', 'By verb (watches: stream lifetime).', 's', [
            t(
              `histogram_quantile(0.99, sum by (verb, le) (rate(veloz_operator_api_request_duration_seconds_bucket{${O}, verb!="watch"}[${R}])))`,
              '{{verb}}',
            ),
          ]),
          ts('Informer restarts', 'By resource and reason.', 'none', [
            t(
              `sum by (resource, reason) (increase(veloz_operator_informer_restarts_total{${O}}[${R}]))`,
              '{{resource}} {{reason}}',
            ),
          ]),
          ts('Leadership', 'Which replica leads.', 'none', [t(`veloz_operator_leader{${O}}`, '{{pod}}')]),
        ],
      },
      {
        title: 'Process',
        panels: [
          ts('CPU', 'CPU seconds per second, per replica.', 'none', [
            t(`rate(veloz_operator_process_cpu_seconds_total{${O}}[${R}])`, '{{pod}}'),
          ]),
          ts('Resident memory', 'Per replica.', 'bytes', [
            t(`veloz_operator_process_resident_memory_bytes{${O}}`, '{{pod}}'),
          ]),
        ],
      },
    ],
  },
];

function variables(scope: DashboardSpec['scope']): unknown[] {
  const ds = { type: 'prometheus', uid: '${datasource}' };
  const query = (name: string, label: string, q: string, extra: Record<string, unknown> = {}) => ({
    name,
    label,
    type: 'query',
    datasource: ds,
    query: { query: q, refId: name },
    definition: q,
    refresh: 2,
    sort: 1,
    includeAll: false,
    multi: false,
    ...extra,
  });
  const datasource = {
    name: 'datasource',
    label: 'Data source',
    type: 'datasource',
    query: 'prometheus',
    refresh: 1,
  };
  if (scope === 'operator') {
    return [
      datasource,
      query('namespace', 'Namespace', 'label_values(veloz_operator_leader, namespace)'),
      query('job', 'Job', 'label_values(veloz_operator_leader{namespace="$namespace"}, job)', {
        includeAll: true,
        multi: true,
        allValue: '.*',
      }),
    ];
  }
  return [
    datasource,
    query('namespace', 'Namespace', 'label_values(veloz_ready, namespace)'),
    // The deployment name, from its engine pods' names (the group in place of the name).
    query('deployment', 'VelozDeployment', 'label_values(veloz_ready{namespace="$namespace"}, pod)', {
      regex: `/^${names('(.+)').enginePodPattern}$/`,
    }),
  ];
}

export function dashboardJson(d: DashboardSpec): string {
  const panels: unknown[] = [];
  let id = 1;
  let y = 0;
  for (const row of d.rows) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const w = p.width ?? 12;
      const h = p.type === 'stat' ? 4 : 8;
      if (x + w > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      panels.push({
        id: id++,
        type: p.type,
        title: p.title,
        description: p.description,
        datasource: { type: 'prometheus', uid: '${datasource}' },
        gridPos: { h, w, x, y },
        fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
        options:
          p.type === 'stat'
            ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value' }
            : { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
        targets: p.targets.map((tg, i) => ({
          refId: String.fromCharCode(65 + i),
          datasource: { type: 'prometheus', uid: '${datasource}' },
          expr: tg.expr,
          legendFormat: tg.legend,
        })),
      });
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  const dashboard = {
    uid: d.uid,
    title: d.title,
    description: `${d.description} Generated by \`npm run gen\` from scripts/generators/dashboards.ts; edit that, not this file.`,
    tags: ['veloz'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-6h', to: 'now' },
    refresh: '30s',
    templating: { list: variables(d.scope) },
    annotations: { list: [] },
    links: [],
    panels,
  };
  // Formatted as `prettier --check` expects, so the generated file passes the repository's lint.
  const path = join(import.meta.dirname, '..', '..', CHART_DIR, 'dashboards', d.file);
  const options = prettier.resolveConfig(path) ?? {};
  return prettier.format(JSON.stringify(dashboard), { ...options, filepath: path });
}

export function dashboardFiles(): Record<string, () => string> {
  return Object.fromEntries(
    DASHBOARDS.map((d) => [`${CHART_DIR}/dashboards/${d.file}`, () => dashboardJson(d)]),
  );
}
