// The engine's Prometheus metrics, on a registry owned by one engine instance. The names of the
// seeds (veloz_wal_entries_written, ...) are kept, with the `_total` Prometheus gives every counter
// (docs/monitoring.md maps them); scripts/monitoring.test.ts checks the naming rules.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '@veloz/common/process-metrics';

export function createEngineMetrics(registry = new Registry()) {
  collectProcessMetrics(registry, 'veloz_');
  const r = [registry];
  const m = {
    registry,
    walEntries: new Counter({
      name: 'veloz_wal_entries_written_total',
      help: 'WAL records written',
      registers: r,
    }),
    walBytes: new Counter({ name: 'veloz_wal_bytes_written_total', help: 'WAL bytes written', registers: r }),
    walRotations: new Counter({
      name: 'veloz_wal_rotations_total',
      help: 'WAL segment rotations',
      registers: r,
    }),
    walCorrupted: new Gauge({
      name: 'veloz_wal_corrupted_entries',
      help: 'Corrupt WAL records found at the last recovery',
      registers: r,
    }),
    walTornTail: new Gauge({
      name: 'veloz_wal_torn_tail_bytes',
      help: 'Bytes of an interrupted write cut from the WAL tail at the last recovery (kept in quarantine/)',
      registers: r,
    }),
    walCheckpoints: new Counter({
      name: 'veloz_wal_checkpoints_total',
      help: 'WAL checkpoints written',
      registers: r,
    }),
    walFsync: new Histogram({
      name: 'veloz_wal_fsync_duration_seconds',
      help: 'fdatasync latency per group-commit batch',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: r,
    }),
    walBatch: new Histogram({
      name: 'veloz_wal_batch_entries',
      help: 'Records per group-commit batch',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024],
      registers: r,
    }),
    walLastSequence: new Gauge({
      name: 'veloz_wal_last_sequence',
      help: 'Last durable WAL sequence',
      registers: r,
    }),
    walReplaySeconds: new Gauge({
      name: 'veloz_wal_replay_duration_seconds',
      help: 'Time the last start-up spent recovering and replaying the WAL',
      registers: r,
    }),
    walReplayedEntries: new Gauge({
      name: 'veloz_wal_replayed_entries',
      help: 'Records replayed at the last start-up',
      registers: r,
    }),
    walUp: new Gauge({
      name: 'veloz_wal_up',
      help: '1 while the WAL accepts writes, 0 after a write failure',
      registers: r,
    }),
    walUnavailable: new Gauge({
      name: 'veloz_wal_unavailable',
      help: '1 while a WAL write failure keeps the engine out of service (retrying), else 0',
      registers: r,
    }),
    walWriteFailures: new Counter({
      name: 'veloz_wal_write_failures_total',
      help: 'Failed WAL writes, syncs or rotations (each retry counts), by errno',
      labelNames: ['code'],
      registers: r,
    }),
    orderLatency: new Histogram({
      name: 'veloz_order_latency_seconds',
      help: 'Time from receiving an order to acknowledging it (durable)',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: r,
    }),
    orderEvents: new Counter({
      name: 'veloz_order_status_transitions_total',
      help: 'Orders entering each status',
      labelNames: ['status'],
      registers: r,
    }),
    ordersByStatus: new Gauge({
      name: 'veloz_orders',
      help: 'Orders held in memory by status',
      labelNames: ['status'],
      registers: r,
    }),
    rejections: new Counter({
      name: 'veloz_order_rejections_total',
      help: 'Orders rejected before acceptance, by reason',
      labelNames: ['reason'],
      registers: r,
    }),
    fills: new Counter({ name: 'veloz_fills_total', help: 'Fills', labelNames: ['symbol'], registers: r }),
    position: new Gauge({
      name: 'veloz_position',
      help: 'Net position in base units',
      labelNames: ['symbol'],
      registers: r,
    }),
    realizedPnl: new Gauge({
      name: 'veloz_pnl_realized',
      help: 'Realized PnL in quote units',
      labelNames: ['symbol'],
      registers: r,
    }),
    unrealizedPnl: new Gauge({
      name: 'veloz_pnl_unrealized',
      help: 'Unrealized PnL in quote units',
      labelNames: ['symbol'],
      registers: r,
    }),
    strategyOrders: new Gauge({
      name: 'veloz_strategy_orders_placed',
      help: 'Orders placed per strategy',
      labelNames: ['strategy'],
      registers: r,
    }),
    strategyHalted: new Gauge({
      name: 'veloz_strategy_halted',
      help: '1 while a guardrail holds the strategy halted (ADR 0020), by the guardrail crossed',
      labelNames: ['strategy', 'guardrail'],
      registers: r,
    }),
    strategyErrors: new Counter({
      name: 'veloz_strategy_errors_total',
      help: 'Strategy errors (rejected orders, failures)',
      labelNames: ['strategy'],
      registers: r,
    }),
    ready: new Gauge({ name: 'veloz_ready', help: '1 when the engine is ready', registers: r }),
    marketUpdates: new Counter({
      name: 'veloz_market_updates_total',
      help: 'Market data updates processed',
      labelNames: ['symbol'],
      registers: r,
    }),
    wsDisconnects: new Counter({
      name: 'veloz_ws_disconnects_total',
      help: 'Market data WebSocket disconnects',
      registers: r,
    }),
    httpDuration: new Histogram({
      name: 'veloz_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: r,
    }),
    sseClients: new Gauge({
      name: 'veloz_sse_clients',
      help: 'Connected event stream clients',
      registers: r,
    }),
    walShip: {
      lag: new Gauge({
        name: 'veloz_wal_ship_lag_entries',
        help: 'Durable WAL records not yet shipped to PostgreSQL',
        registers: r,
      }),
      errors: new Counter({
        name: 'veloz_wal_ship_errors_total',
        help: 'WAL shipping failures by reason (connect, insert, diverged, gap)',
        labelNames: ['reason'] as const,
        registers: r,
      }),
      shippedSequence: new Gauge({
        name: 'veloz_wal_shipped_sequence',
        help: 'Highest WAL sequence shipped to PostgreSQL',
        registers: r,
      }),
      shippedEntries: new Counter({
        name: 'veloz_wal_shipped_entries_total',
        help: 'WAL records shipped to PostgreSQL',
        registers: r,
      }),
    },
  };
  // Every reason starts at 0, so increase() sees the first failure after a start too.
  for (const reason of ['connect', 'insert', 'diverged', 'gap']) m.walShip.errors.inc({ reason }, 0);
  // The common causes exist from the start, so an alert can compare them with 0.
  for (const code of ['ENOSPC', 'EACCES', 'EIO']) m.walWriteFailures.inc({ code }, 0);
  return m;
}

export type EngineMetrics = ReturnType<typeof createEngineMetrics>;
