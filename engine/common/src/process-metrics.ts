// The Node.js process metrics (prom-client's defaults) of every VeloZ process, prefixed once:
// prom-client's names already start with process_ or nodejs_, so prefix `veloz_` gives
// veloz_process_cpu_seconds_total, veloz_nodejs_eventloop_lag_seconds.
import { collectDefaultMetrics, type Registry } from 'prom-client';

// Gauges prom-client names like counters, which `promtool check metrics` rejects; the gauges
// without _total (nodejs_active_handles, ... by type) carry the same figures.
const GAUGES_NAMED_LIKE_COUNTERS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export function collectProcessMetrics(registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix });
  for (const name of GAUGES_NAMED_LIKE_COUNTERS) registry.removeSingleMetric(`${prefix}${name}`);
}
