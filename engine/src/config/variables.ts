// Every VELOZ_* variable the engine reads: one table, parsed and validated once at start.
// docs/configuration.md is generated from this table, so it cannot drift.
import { SYMBOL_PATTERN } from '../domain/instrument.ts';

export class ConfigError extends Error {}

export interface VariableSpec<T> {
  name: string;
  default: string | undefined;
  description: string;
  /** Human-readable accepted values, used in errors and docs. */
  accepts: string;
  secret?: boolean;
  parse(raw: string): T;
}

function fail(accepts: string): never {
  throw new ConfigError(accepts);
}

const oneOf =
  <T extends string>(values: readonly T[]) =>
  (raw: string): T =>
    (values as readonly string[]).includes(raw) ? (raw as T) : fail(`one of ${values.join(', ')}`);

const int =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (raw: string): number => {
    if (!/^\d+$/.test(raw)) fail(`an integer from ${min} to ${max}`);
    const v = Number(raw);
    if (!Number.isSafeInteger(v) || v < min || v > max) fail(`an integer from ${min} to ${max}`);
    return v;
  };

const bool = (raw: string): boolean => {
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  return fail('true or false');
};

const url = (raw: string): string => {
  try {
    const u = new URL(raw);
    if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) throw new Error();
    return raw.replace(/\/+$/, '');
  } catch {
    return fail('an http(s):// or ws(s):// URL');
  }
};

const text = (raw: string): string => raw;
const optionalDecimal = (raw: string): string | undefined => {
  if (raw === '') return undefined;
  return /^\d{1,20}(\.\d{1,18})?$/.test(raw)
    ? raw
    : fail('a non-negative decimal such as 1.5, or empty for no limit');
};
const symbols = (raw: string): string[] => {
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of list) if (!SYMBOL_PATTERN.test(s)) fail('comma-separated symbols such as BTCUSDT,ETHUSDT');
  return list;
};

function v<T, const D extends string | undefined>(
  spec: VariableSpec<T> & { default: D },
): VariableSpec<T> & { default: D } {
  return spec;
}

export const VARIABLES = {
  preset: v({
    name: 'VELOZ_PRESET',
    default: 'dev',
    accepts: 'dev, release, asan',
    description:
      'Build preset of the original C++ engine; accepted for compatibility and reported in /health.',
    parse: oneOf(['dev', 'release', 'asan'] as const),
  }),
  port: v({
    name: 'VELOZ_PORT',
    default: '8080',
    accepts: 'an integer from 0 to 65535',
    description: 'HTTP port of `veloz engine` and `veloz gateway` (overridden by --port).',
    parse: int(0, 65535),
  }),
  host: v({
    name: 'VELOZ_HOST',
    default: '0.0.0.0',
    accepts: 'an IP address or host name to listen on',
    description: 'Address the HTTP server listens on.',
    parse: text,
  }),
  logLevel: v({
    name: 'VELOZ_LOG_LEVEL',
    default: 'info',
    accepts: 'debug, info, warn, error',
    description: 'Log level of the JSON logs.',
    parse: oneOf(['debug', 'info', 'warn', 'error'] as const),
  }),
  marketSource: v({
    name: 'VELOZ_MARKET_SOURCE',
    default: 'sim',
    accepts: 'sim, binance_rest, binance_ws',
    description: 'Where market data comes from: the seeded simulator or Binance (REST polling or WebSocket).',
    parse: oneOf(['sim', 'binance_rest', 'binance_ws'] as const),
  }),
  marketSymbol: v({
    name: 'VELOZ_MARKET_SYMBOL',
    default: 'BTCUSDT',
    accepts: 'a symbol of 2-20 upper-case letters and digits',
    description: 'Default trading symbol.',
    parse: (raw: string) =>
      SYMBOL_PATTERN.test(raw) ? raw : fail('a symbol of 2-20 upper-case letters and digits'),
  }),
  symbols: v({
    name: 'VELOZ_SYMBOLS',
    default: '',
    accepts: 'comma-separated symbols such as BTCUSDT,ETHUSDT',
    description: 'Further symbols to trade besides VELOZ_MARKET_SYMBOL.',
    parse: symbols,
  }),
  binanceBaseUrl: v({
    name: 'VELOZ_BINANCE_BASE_URL',
    default: 'https://api.binance.com',
    accepts: 'an http(s):// URL',
    description: 'Binance REST API base URL for market data.',
    parse: url,
  }),
  binanceWsBaseUrl: v({
    name: 'VELOZ_BINANCE_WS_BASE_URL',
    default: 'wss://stream.binance.com:9443/ws',
    accepts: 'a ws(s):// URL',
    description: 'Binance WebSocket base URL for market data streams.',
    parse: url,
  }),
  wsReconnectDelay: v({
    name: 'VELOZ_WS_RECONNECT_DELAY',
    default: '5000',
    accepts: 'an integer from 100 to 600000 (milliseconds)',
    description: 'Delay before reconnecting a dropped market data WebSocket, in milliseconds.',
    parse: int(100, 600_000),
  }),
  executionMode: v({
    name: 'VELOZ_EXECUTION_MODE',
    default: 'sim_engine',
    accepts: 'sim_engine, binance_testnet_spot, binance_spot',
    description:
      'Where orders are executed: the simulated matching engine, the Binance Spot testnet, or live Binance Spot.',
    parse: oneOf(['sim_engine', 'binance_testnet_spot', 'binance_spot'] as const),
  }),
  binanceTradeBaseUrl: v({
    name: 'VELOZ_BINANCE_TRADE_BASE_URL',
    default: 'https://api.binance.com',
    accepts: 'an http(s):// URL',
    description: 'Binance trading API base URL.',
    parse: url,
  }),
  binanceApiKey: v({
    name: 'VELOZ_BINANCE_API_KEY',
    default: undefined,
    accepts: 'the API key string',
    description: 'Binance API key (required for the Binance execution modes). Never logged.',
    secret: true,
    parse: text,
  }),
  binanceApiSecret: v({
    name: 'VELOZ_BINANCE_API_SECRET',
    default: undefined,
    accepts: 'the API secret string',
    description: 'Binance API secret (required for the Binance execution modes). Never logged.',
    secret: true,
    parse: text,
  }),
  workerThreads: v({
    name: 'VELOZ_WORKER_THREADS',
    default: '4',
    accepts: 'an integer from 1 to 256',
    description: 'Size of the libuv thread pool used for file I/O (sets UV_THREADPOOL_SIZE).',
    parse: int(1, 256),
  }),
  memoryPoolSize: v({
    name: 'VELOZ_MEMORY_POOL_SIZE',
    default: '1073741824',
    accepts: 'an integer number of bytes from 67108864 (64 MiB)',
    description: 'Memory budget in bytes; the engine sizes the JavaScript heap limit from it.',
    parse: int(64 * 1024 * 1024),
  }),
  orderRateLimit: v({
    name: 'VELOZ_ORDER_RATE_LIMIT',
    default: '10',
    accepts: 'an integer from 1 to 1000000 (orders per second)',
    description: 'Maximum new orders per second (token bucket, burst of one second).',
    parse: int(1, 1_000_000),
  }),
  maxOrderQuantity: v({
    name: 'VELOZ_RISK_MAX_ORDER_QUANTITY',
    default: '',
    accepts: 'a non-negative decimal such as 1.5, or empty for no limit',
    description: 'Largest quantity of one order, in base units.',
    parse: optionalDecimal,
  }),
  maxOrderNotional: v({
    name: 'VELOZ_RISK_MAX_ORDER_NOTIONAL',
    default: '',
    accepts: 'a non-negative decimal such as 100000, or empty for no limit',
    description: 'Largest price x quantity of one order, in quote units.',
    parse: optionalDecimal,
  }),
  maxOpenOrders: v({
    name: 'VELOZ_RISK_MAX_OPEN_ORDERS',
    default: '1000',
    accepts: 'an integer from 1 to 1000000',
    description: 'Most orders open at once.',
    parse: int(1, 1_000_000),
  }),
  maxPosition: v({
    name: 'VELOZ_RISK_MAX_POSITION',
    default: '',
    accepts: 'a non-negative decimal such as 10, or empty for no limit',
    description: 'Largest absolute position per symbol in base units, counting open orders as filled.',
    parse: optionalDecimal,
  }),
  tradingHalted: v({
    name: 'VELOZ_TRADING_HALTED',
    default: 'false',
    accepts: 'true or false',
    description: 'Start with trading halted (every new order is rejected until resumed).',
    parse: bool,
  }),
  orderHistory: v({
    name: 'VELOZ_ORDER_HISTORY',
    default: '1000',
    accepts: 'an integer from 0 to 10000000',
    description: 'Finished orders kept in memory and in checkpoints (open orders are always kept).',
    parse: int(0, 10_000_000),
  }),
  simSeed: v({
    name: 'VELOZ_SIM_SEED',
    default: '42',
    accepts: 'an integer from 0 to 4294967295',
    description: 'Seed of the simulated market: the same seed gives the same prices.',
    parse: int(0, 4_294_967_295),
  }),
  simTickMs: v({
    name: 'VELOZ_SIM_TICK_MS',
    default: '250',
    accepts: 'an integer from 0 to 60000 (0 stops the clock; tests step it by hand)',
    description: 'Interval between simulated market updates, in milliseconds.',
    parse: int(0, 60_000),
  }),
  walDir: v({
    name: 'VELOZ_WAL_DIR',
    default: './data/wal',
    accepts: 'a directory path',
    description: 'Directory of the order write-ahead log.',
    parse: (raw: string) => (raw.trim() ? raw : fail('a non-empty directory path')),
  }),
  walMaxSize: v({
    name: 'VELOZ_WAL_MAX_SIZE',
    default: '67108864',
    accepts: 'an integer number of bytes from 4096 to 4294967296',
    description: 'Size at which the current WAL segment is sealed and a new one started.',
    parse: int(4096, 4 * 1024 * 1024 * 1024),
  }),
  walMaxFiles: v({
    name: 'VELOZ_WAL_MAX_FILES',
    default: '10',
    accepts: 'an integer from 1 to 100000',
    description: 'Sealed WAL segments kept; older ones are deleted (every segment starts with a checkpoint).',
    parse: int(1, 100_000),
  }),
  walSync: v({
    name: 'VELOZ_WAL_SYNC',
    default: 'true',
    accepts: 'true or false',
    description:
      'fdatasync each group-commit batch before acknowledging it. false survives a process crash, not a power loss.',
    parse: bool,
  }),
  walCheckpointInterval: v({
    name: 'VELOZ_WAL_CHECKPOINT_INTERVAL',
    default: '1000',
    accepts: 'an integer from 0 to 100000000 (0: only at rotation)',
    description: 'WAL entries between checkpoints.',
    parse: int(0, 100_000_000),
  }),
  walRecoveryMode: v({
    name: 'VELOZ_WAL_RECOVERY_MODE',
    default: 'strict',
    accepts: 'strict, truncate_at_corruption',
    description:
      'strict refuses to start on a corrupt WAL; truncate_at_corruption recovers up to the damage and moves the rest to quarantine/.',
    parse: oneOf(['strict', 'truncate_at_corruption'] as const),
  }),
  apiKey: v({
    name: 'VELOZ_API_KEY',
    default: undefined,
    accepts: 'the API key clients must present',
    description: 'Gateway API key (Authorization: Bearer or X-API-Key). Never logged.',
    secret: true,
    parse: text,
  }),
};

export type Variables = typeof VARIABLES;
export type Config = {
  [K in keyof Variables]: Variables[K] extends VariableSpec<infer T>
    ? undefined extends Variables[K]['default']
      ? T | undefined
      : T
    : never;
};

/** Parses every variable; throws one ConfigError listing each bad one with the accepted values. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const out: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const [key, spec] of Object.entries(VARIABLES) as Array<[string, VariableSpec<unknown>]>) {
    const raw = env[spec.name] ?? spec.default;
    if (raw === undefined) {
      out[key] = undefined;
      continue;
    }
    try {
      out[key] = spec.parse(raw);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const shown = spec.secret ? '<hidden>' : JSON.stringify(raw);
      errors.push(`${spec.name}=${shown} is invalid: expected ${err.message}`);
    }
  }
  if (errors.length > 0) throw new ConfigError(errors.join('\n'));
  return out as Config;
}
