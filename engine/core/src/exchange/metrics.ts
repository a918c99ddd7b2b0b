// Exchange connectivity metrics, on the engine's own registry.
import { Counter, Gauge, type Registry } from 'prom-client';

export function createExchangeMetrics(registry: Registry) {
  const r = [registry];
  return {
    requests: new Counter({
      name: 'veloz_exchange_requests_total',
      help: 'Binance REST requests by endpoint and HTTP status (error: no answer)',
      labelNames: ['endpoint', 'status'],
      registers: r,
    }),
    backoffs: new Counter({
      name: 'veloz_exchange_backoffs_total',
      help: 'Times the engine backed off from Binance (rate_limited, ip_banned, time_sync)',
      labelNames: ['reason'],
      registers: r,
    }),
    usedWeight: new Gauge({
      name: 'veloz_exchange_used_weight',
      help: 'Request weight used in the current minute, as reported by Binance',
      registers: r,
    }),
    reconcileDifferences: new Counter({
      name: 'veloz_exchange_reconcile_differences_total',
      help: 'Differences between the WAL and the exchange written to the WAL, by phase (start, unknown, poll, reconcile) and kind',
      labelNames: ['phase', 'kind'],
      registers: r,
    }),
    inSync: new Gauge({
      name: 'veloz_exchange_in_sync',
      help: '1 when the last reconciliation with the exchange finished with no open difference, else 0',
      registers: r,
    }),
    openDifferences: new Gauge({
      name: 'veloz_exchange_reconcile_open_differences',
      help: 'Differences with the exchange that reconciliation could not repair (they halt new orders)',
      registers: r,
    }),
    unknownOrders: new Gauge({
      name: 'veloz_exchange_unknown_orders',
      help: 'Orders whose exchange state is being resolved (UNKNOWN)',
      registers: r,
    }),
    wsConnected: new Gauge({
      name: 'veloz_ws_connected',
      help: '1 while the market data WebSocket is connected',
      registers: r,
    }),
    gaps: new Counter({
      name: 'veloz_market_data_gaps_total',
      help: 'Gaps detected in market data (trade ids that never arrived)',
      labelNames: ['symbol'],
      registers: r,
    }),
    missedTrades: new Counter({
      name: 'veloz_market_data_missed_trades_total',
      help: 'Trades missed in the gaps',
      labelNames: ['symbol'],
      registers: r,
    }),
  };
}

export type ExchangeMetrics = ReturnType<typeof createExchangeMetrics>;
