// `veloz gateway`: the authenticated HTTP front of one engine (DESIGN §1, §6a).
import {
  ConfigError,
  engineTokenSources,
  gatewayApiKeys,
  invalidValue,
  loadConfig,
  VARIABLES,
} from '@veloz/api/variables';
import { TokenSource } from '@veloz/common/tokens';
import { parse, UsageError } from '@veloz/common/args';
import { writableDirectoryProblem } from '@veloz/common/directory';
import { listenProblem, unresolvableHost } from '@veloz/common/listen';
import { createLogger } from '@veloz/common/logging';
import { buildGatewayApp } from './app.ts';
import { ApiKeys } from './auth.ts';
import { HttpUpstream } from './http-upstream.ts';
import { EventHub } from './hub.ts';
import { createGatewayMetrics } from './metrics.ts';
import { SourceAllowlist } from './source-allowlist.ts';
import { StdioUpstream } from './stdio-upstream.ts';
import {
  loadTlsPair,
  TlsFileError,
  watchTlsPair,
  type SecureContextTarget,
  type TlsPair,
} from './tls-files.ts';
import type { Upstream } from './upstream.ts';

export const GATEWAY_HELP = `Usage: veloz gateway --port P (--engine-url URL | --engine-stdio) [options]

Serves the engine's REST API and event stream to clients: API-key authentication, per-key rate
limiting, SSE fan-out with Last-Event-ID resume, and 503 answers while the engine is down.

Options:
  --port P            listen on port P (default: VELOZ_PORT, 8080)
  --host H            listen address (default: VELOZ_HOST, 0.0.0.0)
  --engine-url URL    front the engine at URL (default: VELOZ_GATEWAY_ENGINE_URL)
  --engine-stdio      run "veloz engine --stdio" as a child and restart it when it dies
  --wal-dir DIR       WAL directory of the --engine-stdio child (default: VELOZ_WAL_DIR)
  --rate-limit N      requests per second per API key (default: VELOZ_GATEWAY_RATE_LIMIT, 100)
  -h, --help          show this help

Clients authenticate with "Authorization: Bearer KEY" or "X-API-Key: KEY"; the keys come from
VELOZ_API_KEY or VELOZ_API_KEY_FILE (several keys separated by commas or lines, for rotation).
The gateway presents the engine token VELOZ_ENGINE_TOKEN_TRADING (or _FILE, read again while
running) to its engine; routes that need the engine's admin scope are not served here.
/health, /ready, /metrics and /openapi.json (this API as an OpenAPI 3.1 document) need no key.
HTTPS (and HTTP/2 to clients that offer it) with VELOZ_GATEWAY_TLS_CERT_FILE and
VELOZ_GATEWAY_TLS_KEY_FILE; the files are watched and a rotated certificate is used without a
restart. VELOZ_GATEWAY_ALLOWED_SOURCES (CIDRs) answers 403 to clients outside them.
Other settings: VELOZ_GATEWAY_* (docs/configuration.md).
A bad setting stops the gateway with exit code 2 and a message naming it, also one that fails
when used at start: a host that does not resolve, a port already taken, an --engine-stdio WAL
directory the engine could not create files in.`;

export async function gatewayCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    'engine-url': { type: 'string' },
    'engine-stdio': { type: 'boolean' },
    'wal-dir': { type: 'string' },
    'rate-limit': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(GATEWAY_HELP);
    return 0;
  }
  const env = { ...process.env };
  const flag = (
    name: string,
    value: string | undefined,
    spec: { parse(raw: string): unknown; accepts: string },
  ) => {
    if (value === undefined) return;
    try {
      spec.parse(value);
    } catch (err) {
      if (err instanceof ConfigError)
        throw new UsageError(`--${name} ${JSON.stringify(value)} is invalid: expected ${spec.accepts}`);
      throw err;
    }
  };
  flag('port', values.port, VARIABLES.port);
  flag('rate-limit', values['rate-limit'], VARIABLES.gatewayRateLimit);
  flag('engine-url', values['engine-url'], { ...VARIABLES.gatewayEngineUrl, accepts: 'an http(s):// URL' });
  if (values['engine-url'] !== undefined && !/^https?:\/\//.test(values['engine-url']))
    throw new UsageError(
      `--engine-url ${JSON.stringify(values['engine-url'])} is invalid: expected an http(s):// URL`,
    );
  if (values.port !== undefined) env['VELOZ_PORT'] = values.port;
  if (values.host !== undefined) env['VELOZ_HOST'] = values.host;
  if (values['rate-limit'] !== undefined) env['VELOZ_GATEWAY_RATE_LIMIT'] = values['rate-limit'];
  if (values['engine-url'] !== undefined) env['VELOZ_GATEWAY_ENGINE_URL'] = values['engine-url'];
  let config;
  try {
    config = loadConfig(env, { role: 'gateway' });
  } catch (err) {
    if (err instanceof ConfigError) return invalidConfiguration(err.message);
    throw err;
  }
  const stdio = values['engine-stdio'] === true;
  if (stdio && values['engine-url'] !== undefined)
    throw new UsageError('--engine-url and --engine-stdio cannot be combined');
  if (!stdio && !config.gatewayEngineUrl)
    throw new UsageError(
      'one of --engine-url URL (or VELOZ_GATEWAY_ENGINE_URL) and --engine-stdio is required',
    );
  if (values['wal-dir'] !== undefined && !stdio)
    throw new UsageError('--wal-dir only applies to --engine-stdio');
  const keyList = gatewayApiKeys(config);
  if (keyList.length === 0) {
    return invalidConfiguration(
      'VELOZ_API_KEY (or VELOZ_API_KEY_FILE) is required: the gateway never serves the API without authentication',
    );
  }
  if (config.gatewayEngineUrl && !/^https?:/.test(config.gatewayEngineUrl)) {
    return invalidConfiguration(
      `VELOZ_GATEWAY_ENGINE_URL=${JSON.stringify(config.gatewayEngineUrl)} is invalid: expected an http(s):// URL`,
    );
  }
  // Checked before the engine child or the upstream starts: nothing is left running on failure.
  const problems: string[] = [];
  const unresolved = await unresolvableHost(config.host);
  if (unresolved) {
    const flag = values.host !== undefined ? '--host' : undefined;
    problems.push(invalidValue(VARIABLES.host, config.host, VARIABLES.host.accepts, unresolved, flag));
  }
  if (stdio) {
    const walDir = values['wal-dir'] ?? config.walDir;
    const why = await writableDirectoryProblem(walDir);
    const flag = values['wal-dir'] !== undefined ? '--wal-dir' : undefined;
    if (why)
      problems.push(
        invalidValue(VARIABLES.walDir, walDir, 'a directory the engine can create files in', why, flag),
      );
  }
  let tlsPair: TlsPair | undefined;
  if (config.gatewayTlsCertFile && config.gatewayTlsKeyFile) {
    try {
      tlsPair = await loadTlsPair(config.gatewayTlsCertFile, config.gatewayTlsKeyFile);
    } catch (err) {
      if (!(err instanceof TlsFileError)) throw err;
      problems.push(
        invalidValue(
          VARIABLES.gatewayTlsCertFile,
          config.gatewayTlsCertFile,
          'a certificate and its key',
          err.message,
        ),
      );
    }
  }
  if (problems.length > 0) return invalidConfiguration(problems.join('\n'));

  const log = createLogger(config.logLevel, 1, 'veloz-gateway');
  const metrics = createGatewayMetrics();
  const hub = new EventHub(config.gatewayEventBuffer);
  const upstream: Upstream = stdio
    ? new StdioUpstream({
        timeoutMs: config.gatewayUpstreamTimeout,
        log,
        args: values['wal-dir'] !== undefined ? ['--wal-dir', values['wal-dir']] : [],
        onRestart: () => metrics.engineRestarts.inc(),
      })
    : httpUpstream(
        config.gatewayEngineUrl!,
        config.gatewayUpstreamTimeout,
        engineTokenSources(config).trading,
        log,
      );
  upstream.start({
    event: (type, data) => hub.publish(type, data),
    reset: (reason) => {
      if (reason.includes('restarted') && !stdio) metrics.engineRestarts.inc();
      hub.publish('reset', JSON.stringify({ reason }));
    },
    connected: (up) => {
      metrics.engineUp.set(up ? 1 : 0);
      hub.publish('system', JSON.stringify({ engine: up ? 'connected' : 'disconnected' }));
    },
  });
  const app = buildGatewayApp({
    upstream,
    hub,
    keys: new ApiKeys(keyList),
    ratePerSecond: config.gatewayRateLimit,
    metrics,
    logger: log,
    heartbeatMs: config.gatewaySseHeartbeat,
    maxBufferedBytes: config.gatewaySseMaxBuffer,
    ...(tlsPair ? { tls: { cert: tlsPair.cert, key: tlsPair.key } } : {}),
    ...(config.gatewayAllowedSources ? { allowlist: new SourceAllowlist(config.gatewayAllowedSources) } : {}),
  });
  app.addHook('onClose', async () => upstream.close());
  if (tlsPair && config.gatewayTlsCertFile && config.gatewayTlsKeyFile) {
    const stopWatching = watchTlsPair(app.server as unknown as SecureContextTarget, {
      certFile: config.gatewayTlsCertFile,
      keyFile: config.gatewayTlsKeyFile,
      current: tlsPair,
      onReload: (p) =>
        log.info({ fingerprint: p.fingerprint, notAfter: p.notAfter }, 'TLS certificate reloaded'),
      onError: (err) =>
        log.error({ err: err.message }, 'TLS certificate not reloaded; the previous one stays in use'),
    });
    app.addHook('onClose', async () => stopWatching());
  }
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    // The upstream (and an engine child) is running: closing the app stops it, else the process
    // would print the error and keep running without serving anything.
    const problem = listenProblem(err, {
      host: config.host,
      port: config.port,
      hostFlag: values.host === undefined ? undefined : '--host',
      portFlag: values.port === undefined ? undefined : '--port',
    });
    if (!problem) {
      await app.close();
      throw err;
    }
    const { setting, value, expected, why, flag } = problem;
    const code = invalidConfiguration(invalidValue(VARIABLES[setting], value, expected, why, flag));
    await app.close();
    log.flush();
    return code;
  }
  log.info(
    {
      port: config.port,
      engine: upstream.description,
      rateLimit: config.gatewayRateLimit,
      keys: keyList.length,
      tls: tlsPair ? { fingerprint: tlsPair.fingerprint, notAfter: tlsPair.notAfter } : false,
      allowedSources: config.gatewayAllowedSources ?? 'any',
    },
    'gateway listening',
  );
  await new Promise<void>((resolve, reject) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'gateway shutting down');
      void app
        .close()
        .catch((err: unknown) => {
          log.error({ err, signal }, 'shutdown failed');
          throw err;
        })
        .then(() => {
          log.info('stopped');
          log.flush();
          resolve();
        }, reject);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

/** The engine over HTTP, with the trading token it sends (ADR 14) when one is configured. */
function httpUpstream(
  url: string,
  timeoutMs: number,
  origin: ReturnType<typeof engineTokenSources>['trading'],
  log: ReturnType<typeof createLogger>,
): HttpUpstream {
  if (!origin) {
    log.warn('no VELOZ_ENGINE_TOKEN_TRADING(_FILE): the engine must serve this gateway as a loopback client');
    return new HttpUpstream({ url, timeoutMs, log });
  }
  const token = new TokenSource(origin, {
    onReadError: (file, err) =>
      log.warn({ file, err: err.message }, 'cannot read the engine token file; keeping its last token'),
  });
  return new HttpUpstream({ url, timeoutMs, log, token });
}

/** Exit code 2 with the lines naming each bad setting, like a value loadConfig() refuses. */
function invalidConfiguration(lines: string): number {
  process.stderr.write(`veloz gateway: invalid configuration:\n${lines}\n`);
  return 2;
}
