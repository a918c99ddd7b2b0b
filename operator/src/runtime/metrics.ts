// The operator's Prometheus metrics, on one registry per operator instance.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '@veloz/common/process-metrics';

export function createOperatorMetrics(registry = new Registry()) {
  collectProcessMetrics(registry, 'veloz_operator_');
  const r = [registry];
  return {
    registry,
    reconcileDuration: new Histogram({
      name: 'veloz_operator_reconcile_duration_seconds',
      help: 'Reconcile duration by kind',
      labelNames: ['kind'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    }),
    reconciles: new Counter({
      name: 'veloz_operator_reconcile_total',
      help: 'Reconciles by kind and outcome (success, requeue, error, terminal)',
      labelNames: ['kind', 'outcome'],
      registers: r,
    }),
    reconcileErrors: new Counter({
      name: 'veloz_operator_reconcile_errors_total',
      help: 'Failed reconciles by kind',
      labelNames: ['kind'],
      registers: r,
    }),
    queueDepth: new Gauge({
      name: 'veloz_operator_queue_depth',
      help: 'Keys waiting',
      labelNames: ['kind'],
      registers: r,
    }),
    queueWait: new Histogram({
      name: 'veloz_operator_queue_wait_seconds',
      help: 'Time keys wait in the queue',
      labelNames: ['kind'],
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 30, 120],
      registers: r,
    }),
    apiRequests: new Counter({
      name: 'veloz_operator_api_requests_total',
      help: 'Kubernetes API requests by verb, kind and HTTP code',
      labelNames: ['verb', 'kind', 'code'],
      registers: r,
    }),
    apiLatency: new Histogram({
      name: 'veloz_operator_api_request_duration_seconds',
      help: 'Kubernetes API request latency (watches: stream lifetime)',
      labelNames: ['verb'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300],
      registers: r,
    }),
    informerRestarts: new Counter({
      name: 'veloz_operator_informer_restarts_total',
      help: 'Informer restarts by resource and reason (gone, stall, error)',
      labelNames: ['resource', 'reason'],
      registers: r,
    }),
    leader: new Gauge({
      name: 'veloz_operator_leader',
      help: '1 while this replica is the leader',
      registers: r,
    }),
  };
}

export type OperatorMetrics = ReturnType<typeof createOperatorMetrics>;
