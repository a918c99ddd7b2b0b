// Dashboards and alerts against the metrics the code really registers: a renamed metric or label in
// engine-metrics.ts or the operator's metrics.ts fails here, and so does an alert without a runbook.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertRules } from '@veloz/render/alerts';
import { createEngineMetrics } from '@veloz/engine/metrics/engine-metrics';
import { createOperatorMetrics } from '@veloz/operator/runtime/metrics';
import { createExchangeMetrics } from '@veloz/engine/exchange/metrics';
import { createGatewayMetrics } from '@veloz/gateway/metrics';
import { DASHBOARDS, dashboardJson } from './generators/dashboards.ts';
import { OPERATOR_ALERTS } from './generators/operator-alerts.ts';
import { DEFAULT_RUNBOOK_BASE_URL, runbookAnchor } from '@veloz/api/runbooks';

const ROOT = join(import.meta.dirname, '..');

/** Labels Prometheus adds to every scraped series (target labels of a ServiceMonitor). */
const TARGET_LABELS = ['namespace', 'pod', 'job', 'instance', 'service', 'container', 'endpoint'];

/**
 * Series from outside this repository, with their labels: Prometheus' own `up`, and the
 * kube-state-metrics series the backup and readiness panels/alerts read.
 */
const EXTERNAL: Record<string, string[]> = {
  up: [],
  kube_cronjob_status_last_successful_time: ['cronjob'],
  kube_job_status_failed: ['job_name', 'reason'],
  kube_statefulset_replicas: ['statefulset'],
  kube_statefulset_status_replicas_ready: ['statefulset'],
};

type Registry = ReturnType<typeof createEngineMetrics>['registry'];

/** The registries of every process: engine (with its exchange metrics), gateway, operator. */
function registries(): Registry[] {
  const engine = createEngineMetrics();
  createExchangeMetrics(engine.registry);
  return [engine.registry, createGatewayMetrics().registry, createOperatorMetrics().registry];
}

/** Every exposed series name with the labels it carries. */
async function exported(): Promise<Map<string, Set<string>>> {
  const series = new Map<string, Set<string>>();
  for (const registry of registries()) {
    for (const m of await registry.getMetricsAsJSON()) {
      const labels = new Set<string>();
      for (const v of m.values) for (const l of Object.keys(v.labels)) labels.add(l);
      // Label names declared but not yet observed.
      const declared = (registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] }).labelNames;
      for (const l of declared ?? []) labels.add(l);
      if (String(m.type) === 'histogram') {
        series.set(`${m.name}_bucket`, new Set([...labels, 'le']));
        series.set(`${m.name}_sum`, labels);
        series.set(`${m.name}_count`, labels);
      } else {
        series.set(m.name, labels);
      }
    }
  }
  for (const [name, labels] of Object.entries(EXTERNAL)) series.set(name, new Set(labels));
  return series;
}

const FUNCTIONS = new Set([
  'sum',
  'max',
  'min',
  'avg',
  'rate',
  'increase',
  'histogram_quantile',
  'absent',
  'time',
  'by',
  'without',
  'and',
  'or',
  'unless',
  'on',
  'ignoring',
]);

/** Problems of one PromQL expression: unknown series, unknown labels in matchers or `by`. */
function check(expr: string, series: Map<string, Set<string>>): string[] {
  const problems: string[] = [];
  // Drop string literals, durations in brackets and Grafana variables before looking for names.
  const bare = expr.replace(/"[^"]*"/g, '""').replace(/\[[^\]]*\]/g, '[]');
  const used: string[] = [];
  for (const m of bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?/g)) {
    const name = m[1]!;
    const followedBy = bare.slice(m.index + m[0].length).trimStart()[0];
    if (FUNCTIONS.has(name) || followedBy === '(' || /^\d/.test(name)) continue;
    // Label names inside a matcher, or in `by (...)`, are handled below.
    const before = bare.slice(0, m.index);
    if (/(by|without)\s*\([^)]*$/.test(before) || /\{[^}]*$/.test(before)) continue;
    if (!series.has(name)) {
      problems.push(`unknown series ${name}`);
      continue;
    }
    used.push(name);
    for (const lm of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)) {
      const label = lm[1]!;
      if (!series.get(name)!.has(label) && !TARGET_LABELS.includes(label))
        problems.push(`${name} has no label ${label}`);
    }
  }
  const available = new Set([...TARGET_LABELS, 'le', ...used.flatMap((n) => [...series.get(n)!])]);
  for (const by of bare.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
    for (const label of by[1]!
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      if (!available.has(label)) problems.push(`no series of the expression has label ${label} (by)`);
    }
  }
  if (used.length === 0 && !/time\(\)/.test(expr)) problems.push('uses no known series');
  return problems;
}

const runbook = readFileSync(join(ROOT, 'docs', 'runbooks', 'alerts.md'), 'utf8');
const headings = new Set([...runbook.matchAll(/^## (\w+)$/gm)].map((m) => m[1]!.toLowerCase()));

/**
 * What `promtool check metrics` (client_golang's promlint) reports, for one metric: counters end
 * in _total and nothing else does, snake_case names and labels, suffixes reserved to histograms
 * and summaries, base units, a help text.
 */
export function namingProblems(m: { name: string; type: string; help: string; labels: string[] }): string[] {
  const problems: string[] = [];
  const snake = /^[a-z_:][a-z0-9_:]*$/;
  if (!snake.test(m.name)) problems.push(`${m.name}: not snake_case`);
  for (const l of m.labels)
    if (!/^[a-z_][a-z0-9_]*$/.test(l)) problems.push(`${m.name}: label ${l} not snake_case`);
  if (m.type === 'counter' && !m.name.endsWith('_total')) problems.push(`${m.name}: counter without _total`);
  if (m.type !== 'counter' && m.name.endsWith('_total')) problems.push(`${m.name}: ${m.type} with _total`);
  if (m.type !== 'histogram' && m.type !== 'summary' && /_(count|sum|bucket)$/.test(m.name))
    problems.push(`${m.name}: suffix reserved to histograms and summaries`);
  const unit =
    /_(milliseconds|microseconds|nanoseconds|minutes|hours|days|kilobytes|megabytes|gigabytes|bits|percent)(_|$)/.exec(
      m.name,
    );
  if (unit) problems.push(`${m.name}: ${unit[1]} is not a base unit`);
  if (/(^|_)([a-z]+)_\2(_|$)/.test(m.name)) problems.push(`${m.name}: repeated word`);
  if (!m.help.trim()) problems.push(`${m.name}: no help`);
  return problems;
}

describe('Prometheus naming', () => {
  it('the rules catch a counter without _total, a gauge with it, a doubled prefix, a non-base unit', () => {
    const m = (name: string, type = 'counter') => namingProblems({ name, type, help: 'h', labels: [] });
    expect(m('veloz_fills')).toEqual(['veloz_fills: counter without _total']);
    expect(m('veloz_orders_total', 'gauge')).toEqual(['veloz_orders_total: gauge with _total']);
    expect(m('veloz_process_process_cpu_seconds_total')).toEqual([
      'veloz_process_process_cpu_seconds_total: repeated word',
    ]);
    expect(m('veloz_latency_milliseconds', 'histogram')).toEqual([
      'veloz_latency_milliseconds: milliseconds is not a base unit',
    ]);
    expect(m('veloz_fills_total')).toEqual([]);
  });

  it('every metric of the engine, gateway and operator follows them', async () => {
    const problems: string[] = [];
    for (const registry of registries()) {
      for (const m of await registry.getMetricsAsJSON()) {
        const declared = (registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] })
          .labelNames;
        const labels = [...new Set([...(declared ?? []), ...m.values.flatMap((v) => Object.keys(v.labels))])];
        problems.push(...namingProblems({ name: m.name, type: String(m.type), help: m.help, labels }));
      }
    }
    expect(problems).toEqual([]);
  });

  it('prefixes the Node.js process metrics once', async () => {
    const names = async (r: Registry) => (await r.getMetricsAsJSON()).map((m) => m.name);
    const [engine, gateway, operator] = await Promise.all(registries().map(names));
    for (const n of [engine!, gateway!])
      expect(n).toEqual(
        expect.arrayContaining(['veloz_process_cpu_seconds_total', 'veloz_nodejs_eventloop_lag_p99_seconds']),
      );
    expect(operator).toContain('veloz_operator_process_cpu_seconds_total');
    expect([...engine!, ...gateway!, ...operator!].filter((n) => n.includes('process_process'))).toEqual([]);
  });
});

describe('metric names', () => {
  it('the checker itself catches renamed series and labels', async () => {
    const s = await exported();
    expect(check('rate(veloz_orders_total{pod="x"}[5m])', s)).toContain('unknown series veloz_orders_total');
    // The seed's name: exported as veloz_wal_entries_written_total (a counter).
    expect(check('veloz_wal_entries_written', s)).toContain('unknown series veloz_wal_entries_written');
    expect(check('sum by (side) (veloz_fills_total{symbol="BTCUSDT"})', s)).toEqual([
      'no series of the expression has label side (by)',
    ]);
    expect(check('veloz_fills_total{sym="BTCUSDT"}', s)).toEqual(['veloz_fills_total has no label sym']);
    expect(
      check('histogram_quantile(0.9, sum by (le) (rate(veloz_wal_fsync_duration_seconds_bucket[5m])))', s),
    ).toEqual([]);
  });

  it.each(DASHBOARDS.map((d) => [d.file, d] as const))(
    'dashboard %s queries only exported metrics',
    async (_, d) => {
      const s = await exported();
      const problems = d.rows
        .flatMap((r) => r.panels)
        .flatMap((p) => p.targets.map((t) => ({ title: p.title, problems: check(t.expr, s) })))
        .filter((x) => x.problems.length > 0);
      expect(problems).toEqual([]);
    },
  );

  it('operator alerts use only exported metrics and each links to its runbook section', async () => {
    const s = await exported();
    for (const a of OPERATOR_ALERTS) {
      expect(check(a.expr.replaceAll('SEL', 'job="j"'), s), a.alert).toEqual([]);
      expect(headings, `docs/runbooks/alerts.md has no "## ${a.alert}"`).toContain(runbookAnchor(a.alert));
    }
  });

  it('per-deployment alerts (cdk8s/render/src/alerts.ts) use only exported metrics and have runbook sections', async () => {
    const s = await exported();
    for (const r of alertRules('desk', 'trading', {
      schedule: '*/5 * * * *',
      latencySeconds: '0.05',
      runbookBaseUrl: DEFAULT_RUNBOOK_BASE_URL,
      backups: true,
      walShipping: true,
      drillSchedule: '0 3 * * *',
    })) {
      expect(check(r.expr, s), r.alert).toEqual([]);
      expect(headings, `docs/runbooks/alerts.md has no "## ${r.alert}"`).toContain(runbookAnchor(r.alert));
      expect(r.annotations['runbook_url']).toBe(`${DEFAULT_RUNBOOK_BASE_URL}#${runbookAnchor(r.alert)}`);
    }
  });
});

describe('dashboards', () => {
  it.each(DASHBOARDS.map((d) => [d.file, d] as const))('%s is a well-formed Grafana dashboard', (_, d) => {
    const json = JSON.parse(dashboardJson(d));
    expect(json.uid).toMatch(/^veloz-[a-z]+$/);
    const ids = json.panels.map((p: { id: number }) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of json.panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      if (p.type !== 'row') expect(p.targets.length).toBeGreaterThan(0);
    }
    // Every variable a query uses is defined.
    const vars = new Set(json.templating.list.map((v: { name: string }) => v.name));
    for (const m of JSON.stringify(json.panels).matchAll(/\$(\w+)/g)) {
      if (m[1] !== '__rate_interval') expect(vars, m[0]).toContain(m[1]);
    }
  });

  it('the three dashboards cover trading, system and the operator', () => {
    const titles = DASHBOARDS.flatMap((d) =>
      d.rows.flatMap((r) => r.panels.map((p) => `${d.uid}: ${p.title}`)),
    );
    for (const t of [
      'veloz-trading: Fills',
      'veloz-trading: Rejections by reason',
      'veloz-trading: Realized PnL',
      'veloz-trading: Order acknowledgement latency',
      'veloz-system: WAL throughput',
      'veloz-system: fsync latency',
      'veloz-system: Replay time',
      'veloz-system: Rotations and checkpoints',
      'veloz-system: Corrupt WAL records',
      'veloz-system: WebSocket disconnects',
      'veloz-system: Backup age',
      'veloz-operator: Reconcile rate',
      'veloz-operator: Reconcile errors',
      'veloz-operator: Queue depth and wait',
    ])
      expect(titles).toContain(t);
  });
});
