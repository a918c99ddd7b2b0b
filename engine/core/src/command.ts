// `veloz engine`: the trading engine as an HTTP service (--port) or over stdin/stdout (--stdio).
import { getHeapStatistics } from 'node:v8';
import { ConfigError, engineTokenSources, invalidValue, loadConfig, VARIABLES } from '@veloz/api/variables';
import { TokenSource } from '@veloz/common/tokens';
import type { EngineAuth } from './http/auth.ts';
import { Engine } from './engine/engine.ts';
import { buildApp } from './http/app.ts';
import { createLogger } from '@veloz/common/logging';
import { listenProblem } from '@veloz/common/listen';
import { createEngineMetrics } from './metrics/engine-metrics.ts';
import { StrategyManager } from './strategies/manager.ts';
import { runStdio } from './stdio/stdio-server.ts';
import { startupProblems } from './startup-checks.ts';
import { fenceFromConfig } from './fence/setup.ts';
import { parse, UsageError } from '@veloz/common/args';

export const ENGINE_HELP = `Usage: veloz engine (--port P | --stdio) [options]

Runs the VeloZ trading engine: orders, risk checks, the order write-ahead log, the simulated
market and matching, and built-in strategies.

Options:
  --port P        serve HTTP on port P (default: VELOZ_PORT, 8080)
  --host H        listen address (default: VELOZ_HOST, 0.0.0.0)
  --stdio         JSON lines on stdin/stdout instead of HTTP; logs go to stderr
  --wal-dir DIR   WAL directory (default: VELOZ_WAL_DIR, ./data/wal)
  -h, --help      show this help

Every setting is also read from VELOZ_* environment variables (see docs/configuration.md);
an invalid value stops the engine with exit code 2 and a message naming the variable. So does
a value that fails when used at start: a host that does not resolve, a port already taken, a
WAL directory the engine cannot create files in, a PostgreSQL URI file that cannot be read. GET /openapi.json
describes the HTTP API (OpenAPI 3.1; docs/openapi/engine.json).

Every route but /health, /ready, /metrics and /openapi.json needs an engine token (header
X-Veloz-Engine-Token or Authorization: Bearer) from VELOZ_ENGINE_TOKEN_{TRADING,ADMIN,BACKUP}
or their _FILE forms, read again while running; without any, only loopback clients are served.`;

export async function engineCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    stdio: { type: 'boolean' },
    'wal-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(ENGINE_HELP);
    return 0;
  }
  if (values.stdio && values.port !== undefined)
    throw new UsageError('--port and --stdio cannot be combined');
  const env = { ...process.env };
  if (values.port !== undefined) env['VELOZ_PORT'] = values.port;
  if (values.host !== undefined) env['VELOZ_HOST'] = values.host;
  if (values['wal-dir'] !== undefined) env['VELOZ_WAL_DIR'] = values['wal-dir'];
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return invalidConfiguration(err.message);
    throw err;
  }
  const problems = await startupProblems(config, {
    listens: !values.stdio,
    flags: {
      ...(values.host !== undefined ? { host: '--host' } : {}),
      ...(values['wal-dir'] !== undefined ? { walDir: '--wal-dir' } : {}),
    },
  });
  if (problems.length > 0) return invalidConfiguration(problems.join('\n'));
  // Must be set before the first thread-pool operation (the WAL's file I/O).
  process.env['UV_THREADPOOL_SIZE'] = String(config.workerThreads);
  const log = createLogger(config.logLevel, values.stdio ? 2 : 1, 'veloz-engine');
  const heapLimit = getHeapStatistics().heap_size_limit;
  if (config.memoryPoolSize > heapLimit * 1.1) {
    log.warn(
      { memoryPoolSize: config.memoryPoolSize, heapLimit },
      'VELOZ_MEMORY_POOL_SIZE exceeds the JavaScript heap limit; start Node with --max-old-space-size (the operator sets NODE_OPTIONS)',
    );
  }
  const metrics = createEngineMetrics();
  const fence = fenceFromConfig(config, process.env, log, metrics.registry);
  // Renewing from before the WAL replay: a pair whose Lease another holder has stays fenced.
  fence?.start();
  const engine = await Engine.start({ config, logger: log, metrics });
  if (fence) engine.setFence(() => fence.fenced());
  const strategies = new StrategyManager(engine);
  await strategies.load();
  // stdio's only client is the parent process; over HTTP every non-open route needs a token.
  const sources: TokenSource[] = [];
  let auth: EngineAuth | undefined;
  if (!values.stdio) {
    const tokens: Partial<Record<keyof ReturnType<typeof engineTokenSources>, TokenSource>> = {};
    for (const [scope, origin] of Object.entries(engineTokenSources(config)) as Array<
      [keyof typeof tokens, ConstructorParameters<typeof TokenSource>[0] | undefined]
    >) {
      if (!origin) continue;
      const source = new TokenSource(origin, {
        onReadError: (file, err) =>
          log.warn({ file, err: err.message }, 'cannot read an engine token file; keeping its last tokens'),
      });
      sources.push(source);
      tokens[scope] = source;
    }
    auth = sources.length > 0 ? { mode: 'tokens', tokens } : { mode: 'loopback' };
    if (auth.mode === 'loopback')
      log.warn(
        'no engine token configured (VELOZ_ENGINE_TOKEN_*): only loopback clients are served, apart from /health, /ready, /metrics and /openapi.json',
      );
    else log.info({ scopes: Object.keys(tokens) }, 'engine tokens configured: every other route needs one');
  }
  const app = buildApp({ engine, strategies, logger: log, ...(auth ? { auth } : {}) });

  let stopping: Promise<void> | undefined;
  const stop = (signal: string): Promise<void> =>
    (stopping ??= (async () => {
      log.info({ signal }, 'shutting down: no new requests, finishing in-flight ones, syncing the WAL');
      await app.close();
      for (const s of sources) s.close();
      strategies.close();
      await engine.close();
      // Handed back last: no order leaves once the engine is closed, and a successor need not wait.
      await fence?.close();
      log.info('stopped');
      log.flush();
    })());

  if (values.stdio) {
    await app.ready();
    const done = runStdio(app, engine.events, process.stdin, process.stdout, log);
    // A failed shutdown is logged here and rethrown below, where stdin's end awaits the same stop.
    const onSignal = (sig: string) =>
      void stop(sig).catch((err: unknown) => log.error({ err, signal: sig }, 'shutdown failed'));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    await Promise.race([done, new Promise<void>((resolve) => process.once('beforeExit', () => resolve()))]);
    await stop('stdin closed');
    return 0;
  }
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    const problem = listenProblem(err, {
      host: config.host,
      port: config.port,
      hostFlag: values.host === undefined ? undefined : '--host',
      portFlag: values.port === undefined ? undefined : '--port',
    });
    if (!problem) {
      await stop('listen failed');
      throw err;
    }
    // Reported before the engine stops, so a failing stop cannot hide which setting is wrong.
    const { setting, value, expected, why, flag } = problem;
    const code = invalidConfiguration(invalidValue(VARIABLES[setting], value, expected, why, flag));
    await stop('listen failed');
    return code;
  }
  log.info({ port: config.port, walDir: config.walDir }, 'engine listening');
  await new Promise<void>((resolve, reject) => {
    const onSignal = (sig: string) =>
      void stop(sig)
        .catch((err: unknown) => {
          log.error({ err, signal: sig }, 'shutdown failed');
          throw err;
        })
        .then(resolve, reject);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  return 0;
}

/** Exit code 2 with the lines naming each bad setting, like a value loadConfig() refuses. */
function invalidConfiguration(lines: string): number {
  process.stderr.write(`veloz engine: invalid configuration:\n${lines}\n`);
  return 2;
}
