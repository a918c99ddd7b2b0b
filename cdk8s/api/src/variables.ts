// Every VELOZ_* variable the engine reads: one table, parsed and validated once at start.
// docs/configuration.md is generated from this table, so it cannot drift.
import { readFileSync } from 'node:fs';
import {
  BINANCE_DEFAULT_URLS,
  binanceEnvironment,
  environmentOfMode,
  type BinanceEnvironment,
} from './binance-hosts.ts';
import { isCidr } from './cidr.ts';
import { SYMBOL_PATTERN } from './enums.ts';

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
// *_FILE variables name a mounted Secret file; the value is its content without the final newline.
const secretFile = (raw: string): string => {
  if (!raw.trim()) return fail('the path of a readable file');
  let content: string;
  try {
    content = readFileSync(raw, 'utf8');
  } catch (err) {
    return fail(`the path of a readable file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  const value = content.replace(/\r?\n$/, '');
  return value ? value : fail('a file that is not empty');
};
// A Secret file read again while the process runs: checked readable and not empty now, kept as
// its path.
const readablePath = (raw: string): string => {
  secretFile(raw);
  return raw;
};
const path = (raw: string): string => (raw.trim() ? raw : fail('the path of a file'));
const cidrs = (raw: string): string[] => {
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = list.filter((c) => !isCidr(c));
  if (list.length === 0 || bad.length > 0)
    fail(
      `comma-separated CIDRs such as 10.0.0.0/8,2001:db8::/32${bad.length ? ` (not a CIDR: ${bad.join(', ')})` : ''}`,
    );
  return list;
};
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
    default: undefined,
    accepts: 'an http(s):// URL',
    description: `Binance REST API base URL for market data. Default: ${BINANCE_DEFAULT_URLS.testnet.rest} when VELOZ_EXECUTION_MODE=binance_testnet_spot, else ${BINANCE_DEFAULT_URLS.live.rest}. A live host in testnet mode, or a testnet host in binance_spot mode, refuses to start.`,
    parse: url,
  }),
  binanceWsBaseUrl: v({
    name: 'VELOZ_BINANCE_WS_BASE_URL',
    default: undefined,
    accepts: 'a ws(s):// URL',
    description: `Binance WebSocket base URL for market data streams. Default: ${BINANCE_DEFAULT_URLS.testnet.ws} when VELOZ_EXECUTION_MODE=binance_testnet_spot, else ${BINANCE_DEFAULT_URLS.live.ws}. Checked against the mode like VELOZ_BINANCE_BASE_URL.`,
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
    default: undefined,
    accepts: 'an http(s):// URL',
    description: `Binance trading API base URL. Default: ${BINANCE_DEFAULT_URLS.testnet.trade} when VELOZ_EXECUTION_MODE=binance_testnet_spot, else ${BINANCE_DEFAULT_URLS.live.trade}. Checked against the mode like VELOZ_BINANCE_BASE_URL.`,
    parse: url,
  }),
  binanceWsApiUrl: v({
    name: 'VELOZ_BINANCE_WS_API_URL',
    default: undefined,
    accepts: 'a ws(s):// URL',
    description: `Binance WebSocket API URL, where the engine subscribes to its account's user data stream (order fills as they happen). Default: ${BINANCE_DEFAULT_URLS.testnet.wsApi} when VELOZ_EXECUTION_MODE=binance_testnet_spot, else ${BINANCE_DEFAULT_URLS.live.wsApi}. Checked against the mode like VELOZ_BINANCE_BASE_URL.`,
    parse: url,
  }),
  binanceUserStream: v({
    name: 'VELOZ_BINANCE_USER_STREAM',
    default: 'true',
    accepts: 'true or false',
    description:
      'Learn fills and order changes from the user data stream (userDataStream.subscribe.signature on the WebSocket API). Polling every VELOZ_BINANCE_POLL_INTERVAL stays the fallback while the stream is down; false polls only.',
    parse: bool,
  }),
  binanceUserStreamMaxAge: v({
    name: 'VELOZ_BINANCE_USER_STREAM_MAX_AGE',
    default: '82800000',
    accepts: 'an integer from 1000 to 86000000 (milliseconds)',
    description:
      'Age at which the user data stream connection is replaced (Binance ends a connection after 24 hours). The new connection is subscribed before the old one closes, as on serverShutdown.',
    parse: int(1000, 86_000_000),
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
  binanceApiKeyFile: v({
    name: 'VELOZ_BINANCE_API_KEY_FILE',
    default: undefined,
    accepts: 'the path of a readable file',
    description:
      'File holding the Binance API key (a mounted Secret), instead of VELOZ_BINANCE_API_KEY. Never logged.',
    secret: true,
    parse: secretFile,
  }),
  binanceApiSecretFile: v({
    name: 'VELOZ_BINANCE_API_SECRET_FILE',
    default: undefined,
    accepts: 'the path of a readable file',
    description:
      'File holding the Binance API secret (a mounted Secret), instead of VELOZ_BINANCE_API_SECRET. Never logged.',
    secret: true,
    parse: secretFile,
  }),
  binanceRecvWindow: v({
    name: 'VELOZ_BINANCE_RECV_WINDOW',
    default: '5000',
    accepts: 'an integer from 1 to 60000 (milliseconds)',
    description: 'recvWindow of signed Binance requests: how long after its timestamp a request stays valid.',
    parse: int(1, 60_000),
  }),
  binanceRequestTimeout: v({
    name: 'VELOZ_BINANCE_REQUEST_TIMEOUT',
    default: '10000',
    accepts: 'an integer from 50 to 120000 (milliseconds)',
    description:
      'Time to wait for a Binance REST answer. An order request that times out is UNKNOWN until the order is queried.',
    parse: int(50, 120_000),
  }),
  binancePollInterval: v({
    name: 'VELOZ_BINANCE_POLL_INTERVAL',
    default: '1000',
    accepts: 'an integer from 50 to 600000 (milliseconds)',
    description:
      'Interval of REST market data polling (binance_rest) and of open order status polling (Binance execution modes).',
    parse: int(50, 600_000),
  }),
  binanceMaxBackoff: v({
    name: 'VELOZ_BINANCE_MAX_BACKOFF',
    default: '60000',
    accepts: 'an integer from 0 to 3600000 (milliseconds)',
    description:
      'Longest Retry-After (429, 418, -1003) the engine waits out before retrying a request; a longer ban rejects new orders instead.',
    parse: int(0, 3_600_000),
  }),
  binanceAcceptanceMargin: v({
    name: 'VELOZ_BINANCE_ACCEPTANCE_MARGIN',
    default: '2000',
    accepts: 'an integer from 0 to 600000 (milliseconds)',
    description:
      "Added to a new order's signed timestamp + recvWindow (its acceptance horizon) before Binance's 'order does not exist' is taken to mean the request never arrived; until then an order whose outcome is unknown stays UNKNOWN. Covers the clock offset estimate and the exchange's processing delay.",
    parse: int(0, 600_000),
  }),
  reconcileInterval: v({
    name: 'VELOZ_RECONCILE_INTERVAL',
    default: '30000',
    accepts: 'an integer from 0 to 3600000 (milliseconds); 0 reconciles only at start',
    description:
      'Interval of reconciliation with the exchange (Binance execution modes): open orders, recent trades and balances compared with the WAL, repaired where the exchange is authoritative; what cannot be repaired halts new orders. Each run weighs about 30 per symbol.',
    parse: int(0, 3_600_000),
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
    description:
      'Finished orders kept in memory and in checkpoints (open orders are always kept, and orders placed through the API for VELOZ_IDEMPOTENCY_WINDOW).',
    parse: int(0, 10_000_000),
  }),
  idempotencyWindow: v({
    name: 'VELOZ_IDEMPOTENCY_WINDOW',
    default: '86400',
    accepts: 'an integer number of seconds from 1 to 31536000',
    description:
      'Seconds from its creation during which an order placed through the API is kept whole (in memory and in checkpoints, so across restarts): a retry with its clientOrderId returns it, and it can be read by orderId and clientOrderId. A retry after the window is refused (409) for one more window; after that the clientOrderId may be used again.',
    parse: int(1, 31_536_000),
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
    description:
      'WAL entries between checkpoints, at least: a checkpoint is built off the order path and also waits until the log since the last one holds as many bytes as it (ADR 19).',
    parse: int(0, 100_000_000),
  }),
  walCheckpointMinInterval: v({
    name: 'VELOZ_WAL_CHECKPOINT_MIN_INTERVAL',
    default: '60',
    accepts: 'an integer number of seconds from 0 to 86400 (0: no limit)',
    description:
      'Least time between two checkpoints asked for through POST /api/wal/checkpoint; one sooner is refused with 429 and Retry-After (each checkpoint grows the WAL and every later backup by the whole state).',
    parse: int(0, 86_400),
  }),
  walRecoveryMode: v({
    name: 'VELOZ_WAL_RECOVERY_MODE',
    default: 'strict',
    accepts: 'strict, truncate_at_corruption',
    description:
      'strict refuses to start on a corrupt WAL or one that lost acknowledged records (wal.json); truncate_at_corruption recovers from the newest intact checkpoint through every valid record after it and moves the rest to quarantine/.',
    parse: oneOf(['strict', 'truncate_at_corruption'] as const),
  }),
  walPostgresUri: v({
    name: 'VELOZ_WAL_POSTGRES_URI',
    default: undefined,
    accepts: 'a postgres:// or postgresql:// connection URI, or empty for none',
    description:
      'Ship committed WAL records to this PostgreSQL database (asynchronously; never delays acknowledgement). Never logged.',
    secret: true,
    parse: (raw: string): string | undefined =>
      raw === ''
        ? undefined
        : /^postgres(ql)?:\/\/\S+$/.test(raw)
          ? raw
          : fail('a postgres:// or postgresql:// connection URI, or empty for none'),
  }),
  walPostgresUriFile: v({
    name: 'VELOZ_WAL_POSTGRES_URI_FILE',
    default: '/var/run/secrets/veloz/postgres/uri',
    accepts: 'a file path',
    description:
      'File holding the PostgreSQL URI when VELOZ_WAL_POSTGRES_URI is unset (the operator mounts wal.postgres here); no shipping when the file does not exist.',
    parse: (raw: string) => (raw.trim() ? raw : fail('a non-empty file path')),
  }),
  walShipIntervalMs: v({
    name: 'VELOZ_WAL_SHIP_INTERVAL_MS',
    default: '200',
    accepts: 'an integer from 10 to 60000 (milliseconds)',
    description: 'How often the PostgreSQL shipper looks for newly durable WAL records when idle.',
    parse: int(10, 60_000),
  }),
  deploymentName: v({
    name: 'VELOZ_DEPLOYMENT_NAME',
    default: undefined,
    accepts: 'a Kubernetes object name (a-z, 0-9, -)',
    description:
      'Deployment this engine belongs to (PostgreSQL table veloz_wal_<name>, backups). Default: from a host name <name>-engine-<pair>, else veloz.',
    parse: (raw: string) =>
      /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(raw) ? raw : fail('a Kubernetes object name (a-z, 0-9, -)'),
  }),
  pairIndex: v({
    name: 'VELOZ_PAIR_INDEX',
    default: undefined,
    accepts: 'an integer from 0 to 1000',
    description: 'Pair index of this engine. Default: from a host name <name>-engine-<pair>, else 0.',
    parse: int(0, 1000),
  }),
  deskId: v({
    name: 'VELOZ_DESK_ID',
    default: undefined,
    accepts: '1 to 6 characters of a-z and 0-9',
    description:
      "Short id of the desk, in the client order id of every new order on the exchange with the pair index (vz-<desk>-<pair>-<strategy tag>-…), so that reconciliation adopts and cancels only this desk's and this pair's orders on a shared account. The operator sets it from the namespace and name. Unset: orders get the older veloz-<n>-… ids and reconciliation takes every such id for its own.",
    parse: (raw: string) => (/^[a-z0-9]{1,6}$/.test(raw) ? raw : fail('1 to 6 characters of a-z and 0-9')),
  }),
  lease: v({
    name: 'VELOZ_LEASE',
    default: 'true',
    accepts: 'true or false',
    description:
      'Self-fencing: hold a coordination.k8s.io Lease for this pair and refuse new orders (503) while it cannot be renewed for VELOZ_LEASE_DURATION. Only in a cluster (KUBERNETES_SERVICE_HOST set); outside one it is off and the engine says so at start.',
    parse: bool,
  }),
  leaseName: v({
    name: 'VELOZ_LEASE_NAME',
    default: undefined,
    accepts: 'a Kubernetes object name (a-z, 0-9, -, .)',
    description:
      "Name of the pair's Lease, in the namespace of the service account. Default: <deployment>-engine-<pair>.",
    parse: (raw: string) =>
      /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(raw)
        ? raw
        : fail('a Kubernetes object name (a-z, 0-9, -, .)'),
  }),
  leaseHolder: v({
    name: 'VELOZ_LEASE_HOLDER',
    default: undefined,
    accepts: 'a non-empty text of at most 128 characters',
    description:
      'Holder identity written into the Lease. The operator sets <pod name>_<pod uid>, so a replacement pod is another holder. Default: <host name>_<process id>.',
    parse: (raw: string) =>
      raw.trim() && raw.length <= 128 ? raw : fail('a non-empty text of at most 128 characters'),
  }),
  leaseDuration: v({
    name: 'VELOZ_LEASE_DURATION',
    default: '15',
    accepts: 'an integer number of seconds from 2 to 3600',
    description:
      'Lease duration: an engine that could not renew its Lease for this long stops sending new orders; another holder may take the Lease after it.',
    parse: int(2, 3600),
  }),
  leaseRenewPeriod: v({
    name: 'VELOZ_LEASE_RENEW_PERIOD',
    default: '5',
    accepts: 'an integer number of seconds from 1 to 1200, less than VELOZ_LEASE_DURATION',
    description: 'How often the Lease is renewed (and, while fenced, tried again).',
    parse: int(1, 1200),
  }),
  leaseCredentialsDir: v({
    name: 'VELOZ_LEASE_CREDENTIALS_DIR',
    default: '/var/run/secrets/kubernetes.io/serviceaccount',
    accepts: 'a directory path',
    description:
      'Directory holding the service account token (read again at each renewal, as it rotates), ca.crt and namespace the Lease is kept with.',
    parse: (raw: string) => (raw.trim() ? raw : fail('a non-empty directory path')),
  }),
  apiKey: v({
    name: 'VELOZ_API_KEY',
    default: undefined,
    accepts: 'the API key clients must present',
    description: 'Gateway API key (Authorization: Bearer or X-API-Key). Never logged.',
    secret: true,
    parse: text,
  }),
  apiKeyFile: v({
    name: 'VELOZ_API_KEY_FILE',
    default: undefined,
    accepts: 'the path of a readable file',
    description: 'File holding the gateway API key(s), instead of VELOZ_API_KEY. Never logged.',
    secret: true,
    parse: secretFile,
  }),
  engineTokenTrading: v({
    name: 'VELOZ_ENGINE_TOKEN_TRADING',
    default: undefined,
    accepts: 'one or more tokens, separated by commas or new lines',
    description:
      'Engine tokens of scope trading (the gateway sends it; admin tokens open these routes too). The engine accepts each; a gateway or backup job sends the first. Without any VELOZ_ENGINE_TOKEN_* the engine answers only loopback clients. Never logged.',
    secret: true,
    parse: text,
  }),
  engineTokenTradingFile: v({
    name: 'VELOZ_ENGINE_TOKEN_TRADING_FILE',
    default: undefined,
    accepts: 'the path of a readable file',
    description:
      'File holding the trading engine tokens (a mounted Secret), instead of VELOZ_ENGINE_TOKEN_TRADING; read again while running, so a rotated Secret needs no restart. Never logged.',
    secret: true,
    parse: readablePath,
  }),
  engineTokenAdmin: v({
    name: 'VELOZ_ENGINE_TOKEN_ADMIN',
    default: undefined,
    accepts: 'one or more tokens, separated by commas or new lines',
    description:
      'Engine tokens of scope admin (the operator: strategies, halt and resume, the WAL status and checkpoints). The engine accepts each; a gateway or backup job sends the first. Without any VELOZ_ENGINE_TOKEN_* the engine answers only loopback clients. Never logged.',
    secret: true,
    parse: text,
  }),
  engineTokenAdminFile: v({
    name: 'VELOZ_ENGINE_TOKEN_ADMIN_FILE',
    default: undefined,
    accepts: 'the path of a readable file',
    description:
      'File holding the admin engine tokens (a mounted Secret), instead of VELOZ_ENGINE_TOKEN_ADMIN; read again while running, so a rotated Secret needs no restart. Never logged.',
    secret: true,
    parse: readablePath,
  }),
  engineTokenBackup: v({
    name: 'VELOZ_ENGINE_TOKEN_BACKUP',
    default: undefined,
    accepts: 'one or more tokens, separated by commas or new lines',
    description:
      'Engine tokens of scope backup (the backup job: GET /api/wal/backup). The engine accepts each; a gateway or backup job sends the first. Without any VELOZ_ENGINE_TOKEN_* the engine answers only loopback clients. Never logged.',
    secret: true,
    parse: text,
  }),
  engineTokenBackupFile: v({
    name: 'VELOZ_ENGINE_TOKEN_BACKUP_FILE',
    default: undefined,
    accepts: 'the path of a readable file',
    description:
      'File holding the backup engine tokens (a mounted Secret), instead of VELOZ_ENGINE_TOKEN_BACKUP; read again while running, so a rotated Secret needs no restart. Never logged.',
    secret: true,
    parse: readablePath,
  }),
  gatewayEngineUrl: v({
    name: 'VELOZ_GATEWAY_ENGINE_URL',
    default: undefined,
    accepts: 'an http(s):// URL',
    description: 'Engine the gateway fronts (overridden by --engine-url).',
    parse: url,
  }),
  gatewayRateLimit: v({
    name: 'VELOZ_GATEWAY_RATE_LIMIT',
    default: '100',
    accepts: 'an integer from 1 to 1000000 (requests per second)',
    description:
      'Gateway requests per second per API key (token bucket, burst of one second; overridden by --rate-limit).',
    parse: int(1, 1_000_000),
  }),
  gatewayUpstreamTimeout: v({
    name: 'VELOZ_GATEWAY_UPSTREAM_TIMEOUT',
    default: '10000',
    accepts: 'an integer from 10 to 600000 (milliseconds)',
    description: 'Longest the gateway waits for its engine before answering 503.',
    parse: int(10, 600_000),
  }),
  gatewaySseHeartbeat: v({
    name: 'VELOZ_GATEWAY_SSE_HEARTBEAT',
    default: '15000',
    accepts: 'an integer from 10 to 600000 (milliseconds)',
    description: 'Interval of heartbeat comments on the gateway event stream.',
    parse: int(10, 600_000),
  }),
  gatewaySseMaxBuffer: v({
    name: 'VELOZ_GATEWAY_SSE_MAX_BUFFER',
    default: '1048576',
    accepts: 'an integer number of bytes from 1024 to 1073741824',
    description: 'Unsent bytes an event stream client may fall behind by before the gateway disconnects it.',
    parse: int(1024, 1024 * 1024 * 1024),
  }),
  gatewayEventBuffer: v({
    name: 'VELOZ_GATEWAY_EVENT_BUFFER',
    default: '10000',
    accepts: 'an integer from 1 to 10000000',
    description: 'Events the gateway keeps for Last-Event-ID resume.',
    parse: int(1, 10_000_000),
  }),
  gatewayTlsCertFile: v({
    name: 'VELOZ_GATEWAY_TLS_CERT_FILE',
    default: undefined,
    accepts: 'the path of a PEM certificate (chain) file',
    description:
      'Serve HTTPS (and HTTP/2 to clients that offer it) with this certificate; needs VELOZ_GATEWAY_TLS_KEY_FILE. The files are watched: a rotated certificate is used for new connections without a restart.',
    parse: path,
  }),
  gatewayTlsKeyFile: v({
    name: 'VELOZ_GATEWAY_TLS_KEY_FILE',
    default: undefined,
    accepts: 'the path of a PEM private key file',
    description: 'Private key of VELOZ_GATEWAY_TLS_CERT_FILE.',
    parse: path,
  }),
  gatewayAllowedSources: v({
    name: 'VELOZ_GATEWAY_ALLOWED_SOURCES',
    default: undefined,
    accepts: 'comma-separated CIDRs such as 10.0.0.0/8,2001:db8::/32',
    description:
      'Client addresses the gateway serves; any other gets 403 (the probes, /metrics and /openapi.json excepted). Everyone when unset.',
    parse: cidrs,
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

export interface LoadOptions {
  /** Which process reads the configuration: only the engine needs exchange credentials. */
  role?: 'engine' | 'gateway';
}

/**
 * How a bad value is reported, by loadConfig and by the checks a process makes when it first uses
 * a value (a port already taken, a WAL directory that is a file): the variable, the flag that set
 * it if one did, the value (hidden when secret), what is accepted and, when known, why not.
 */
export function invalidValue(
  spec: Pick<VariableSpec<unknown>, 'name' | 'secret'>,
  raw: string,
  expected: string,
  why?: string,
  flag?: string,
): string {
  const shown = spec.secret ? '<hidden>' : JSON.stringify(raw);
  const from = flag ? ` (set by ${flag})` : '';
  return `${spec.name}=${shown}${from} is invalid: expected ${expected}${why ? ` (${why})` : ''}`;
}

/** Parses every variable; throws one ConfigError listing each bad one with the accepted values. */
export function loadConfig(env: Record<string, string | undefined>, opts: LoadOptions = {}): Config {
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
      errors.push(invalidValue(spec, raw, err.message));
    }
  }
  if (errors.length === 0) errors.push(...crossChecks(out as Config, opts.role ?? 'engine'));
  if (errors.length > 0) throw new ConfigError(errors.join('\n'));
  return out as Config;
}

function crossChecks(c: Config, role: 'engine' | 'gateway'): string[] {
  const errors: string[] = [];
  const exclusive = (a: string, b: string, va: unknown, vb: unknown) => {
    if (va !== undefined && vb !== undefined) errors.push(`${a} and ${b} are both set; set only one`);
  };
  exclusive('VELOZ_BINANCE_API_KEY', 'VELOZ_BINANCE_API_KEY_FILE', c.binanceApiKey, c.binanceApiKeyFile);
  exclusive(
    'VELOZ_BINANCE_API_SECRET',
    'VELOZ_BINANCE_API_SECRET_FILE',
    c.binanceApiSecret,
    c.binanceApiSecretFile,
  );
  exclusive('VELOZ_API_KEY', 'VELOZ_API_KEY_FILE', c.apiKey, c.apiKeyFile);
  exclusive(
    'VELOZ_ENGINE_TOKEN_TRADING',
    'VELOZ_ENGINE_TOKEN_TRADING_FILE',
    c.engineTokenTrading,
    c.engineTokenTradingFile,
  );
  exclusive(
    'VELOZ_ENGINE_TOKEN_ADMIN',
    'VELOZ_ENGINE_TOKEN_ADMIN_FILE',
    c.engineTokenAdmin,
    c.engineTokenAdminFile,
  );
  exclusive(
    'VELOZ_ENGINE_TOKEN_BACKUP',
    'VELOZ_ENGINE_TOKEN_BACKUP_FILE',
    c.engineTokenBackup,
    c.engineTokenBackupFile,
  );
  if ((c.gatewayTlsCertFile === undefined) !== (c.gatewayTlsKeyFile === undefined))
    errors.push(
      'VELOZ_GATEWAY_TLS_CERT_FILE and VELOZ_GATEWAY_TLS_KEY_FILE go together; set both or neither',
    );
  if (c.leaseRenewPeriod >= c.leaseDuration)
    errors.push(
      `VELOZ_LEASE_RENEW_PERIOD (${c.leaseRenewPeriod}) must be less than VELOZ_LEASE_DURATION (${c.leaseDuration}), or the Lease lapses between renewals`,
    );
  if (role !== 'engine' || c.executionMode === 'sim_engine') return errors;
  const creds = binanceCredentials(c);
  if (!creds.apiKey)
    errors.push(
      `VELOZ_EXECUTION_MODE=${c.executionMode} needs VELOZ_BINANCE_API_KEY (or VELOZ_BINANCE_API_KEY_FILE); refusing to start without credentials`,
    );
  if (!creds.apiSecret)
    errors.push(
      `VELOZ_EXECUTION_MODE=${c.executionMode} needs VELOZ_BINANCE_API_SECRET (or VELOZ_BINANCE_API_SECRET_FILE); refusing to start without credentials`,
    );
  if (c.marketSource === 'sim')
    errors.push(
      `VELOZ_EXECUTION_MODE=${c.executionMode} trades on Binance and needs Binance prices: set VELOZ_MARKET_SOURCE to binance_ws or binance_rest`,
    );
  errors.push(...hostModeMismatches(c));
  return errors;
}

const OTHER: Record<BinanceEnvironment, BinanceEnvironment> = { live: 'testnet', testnet: 'live' };

/**
 * Testnet mode must not reach the live exchange (orders, or the prices risk checks use), nor
 * live mode the testnet: a URL whose host belongs to the other environment refuses to start.
 */
function hostModeMismatches(c: Config): string[] {
  const mode = environmentOfMode(c.executionMode);
  if (!mode) return [];
  const set: Array<[string, string | undefined]> = [
    [VARIABLES.binanceTradeBaseUrl.name, c.binanceTradeBaseUrl],
    [VARIABLES.binanceBaseUrl.name, c.binanceBaseUrl],
    [VARIABLES.binanceWsBaseUrl.name, c.binanceWsBaseUrl],
    [VARIABLES.binanceWsApiUrl.name, c.binanceWsApiUrl],
  ];
  return set
    .filter(([, value]) => value !== undefined && binanceEnvironment(value) === OTHER[mode])
    .map(
      ([name, value]) =>
        `host/mode mismatch: ${name}=${value} is a ${OTHER[mode]} Binance host but VELOZ_EXECUTION_MODE=${c.executionMode} trades on the ${mode} exchange; unset it (the ${mode} host is the default) or use a ${mode} host`,
    );
}

/** The Binance URLs in use: the configured ones, else those of the environment the mode trades in. */
export function binanceUrls(c: Config): { rest: string; ws: string; trade: string; wsApi: string } {
  const d = BINANCE_DEFAULT_URLS[environmentOfMode(c.executionMode) ?? 'live'];
  return {
    rest: c.binanceBaseUrl ?? d.rest,
    ws: c.binanceWsBaseUrl ?? d.ws,
    trade: c.binanceTradeBaseUrl ?? d.trade,
    wsApi: c.binanceWsApiUrl ?? d.wsApi,
  };
}

/** The Binance credentials from the variables or their files (empty strings count as unset). */
export function binanceCredentials(c: Config): { apiKey: string | undefined; apiSecret: string | undefined } {
  return {
    apiKey: (c.binanceApiKey ?? c.binanceApiKeyFile) || undefined,
    apiSecret: (c.binanceApiSecret ?? c.binanceApiSecretFile) || undefined,
  };
}

/** Gateway API keys: one or more, separated by commas or new lines, so a key can be rotated. */
export function gatewayApiKeys(c: Config): string[] {
  return (c.apiKey ?? c.apiKeyFile ?? '')
    .split(/[,\n]/)
    .map((k) => k.trim())
    .filter(Boolean);
}

/** Where the engine tokens of one scope come from: the variable's value, or a file read again while running. */
export type TokenSourceSpec = { value: string } | { file: string } | undefined;

/** The configured source of each scope's engine tokens (ADR 14). */
export function engineTokenSources(c: Config): {
  trading: TokenSourceSpec;
  admin: TokenSourceSpec;
  backup: TokenSourceSpec;
} {
  const of = (value: string | undefined, file: string | undefined): TokenSourceSpec =>
    value !== undefined ? { value } : file !== undefined ? { file } : undefined;
  return {
    trading: of(c.engineTokenTrading, c.engineTokenTradingFile),
    admin: of(c.engineTokenAdmin, c.engineTokenAdminFile),
    backup: of(c.engineTokenBackup, c.engineTokenBackupFile),
  };
}
