// The non-secret VELOZ_* settings of engines and gateways (ConfigMap `X-config`), named through
// the engine's own variable table so a renamed variable fails type checking here.
import { createHash } from 'node:crypto';
import { VARIABLES } from '@veloz/api/variables';
import type { VelozDeploymentSpec } from '@veloz/api/generated/types';
import { WAL_MOUNT } from '@veloz/api/names';
import { splitRisk, type RiskBudget } from './risk-split.ts';

type VariableKey = keyof typeof VARIABLES;

const TRADE_BASE_URL = {
  sim_engine: undefined,
  binance_testnet_spot: 'https://testnet.binance.vision',
  binance_spot: 'https://api.binance.com',
} as const;

/**
 * `budget`: the risk budget of the desk's account share group (the operator's); absent, the desk's
 * own limits split across its own pairs.
 */
export function configData(spec: VelozDeploymentSpec, budget?: RiskBudget): Record<string, string> {
  const { market, execution, risk, engine, wal } = spec;
  // Each engine enforces its share of the desk's (or the share group's) limits (ADR 0017).
  const share = splitRisk(budget ?? { pairs: spec.pairs, risk, orderRateLimit: execution.orderRateLimit });
  const [symbol, ...more] = market.symbols;
  const values: Partial<Record<VariableKey, string>> = {
    preset: 'release',
    host: '0.0.0.0',
    logLevel: engine.logLevel,
    marketSource: market.source,
    marketSymbol: symbol ?? 'BTCUSDT',
    symbols: more.join(','),
    binanceBaseUrl: market.binanceBaseUrl,
    binanceWsBaseUrl: market.binanceWsBaseUrl,
    wsReconnectDelay: String(market.wsReconnectDelayMs),
    executionMode: execution.mode,
    binanceTradeBaseUrl: execution.tradeBaseUrl ?? TRADE_BASE_URL[execution.mode],
    workerThreads: String(engine.workerThreads),
    memoryPoolSize: String(engine.memoryPoolSize),
    orderRateLimit: String(share.orderRateLimit),
    // Only engines that trade on an exchange reconcile; a sim desk's config stays as it was.
    reconcileInterval: execution.mode === 'sim_engine' ? undefined : String(execution.reconcileIntervalMs),
    maxOrderQuantity: risk.maxOrderQuantity ?? '',
    maxOrderNotional: share.maxOrderNotional ?? '',
    maxOpenOrders: String(share.maxOpenOrders),
    maxPosition: share.maxPosition ?? '',
    // spec.paused freezes the operator, not trading (the reconciler applies nothing while paused).
    tradingHalted: 'false',
    orderHistory: String(engine.orderHistory),
    simSeed: String(market.sim.seed),
    simTickMs: String(market.sim.tickMs),
    walDir: WAL_MOUNT,
    walMaxSize: String(wal.maxSizeBytes),
    walMaxFiles: String(wal.maxFiles),
    walSync: String(wal.sync),
    walCheckpointInterval: String(wal.checkpointInterval),
    walRecoveryMode: wal.recoveryMode,
  };
  const data: Record<string, string> = {};
  for (const key of Object.keys(values).sort() as VariableKey[]) {
    const value = values[key];
    if (value === undefined) continue;
    if (VARIABLES[key].secret)
      throw new Error(`${VARIABLES[key].name} is secret and never goes in a ConfigMap`);
    data[VARIABLES[key].name] = value;
  }
  return data;
}

/** sha256 of the ConfigMap data: a pod template annotation, so a config change rolls the pods. */
export function checksum(data: Record<string, string>): string {
  const canonical = JSON.stringify(
    Object.keys(data)
      .sort()
      .map((k) => [k, data[k]]),
  );
  return createHash('sha256').update(canonical).digest('hex');
}

/** NODE_OPTIONS heap limit in MiB: the engine's memory budget is its JavaScript heap. */
export function heapMiB(memoryPoolSize: number): number {
  return Math.floor(memoryPoolSize / (1024 * 1024));
}
