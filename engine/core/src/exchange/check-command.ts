// `veloz exchange check`: the engine's Binance configuration (its VELOZ_* variables) tried
// against the exchange. Opt-in: it needs the network and, for the trading steps, testnet keys.
import { ConfigError, loadConfig } from '@veloz/api/variables';
import { parse, UsageError } from '@veloz/common/args';
import { createLogger } from '@veloz/common/logging';
import { checkExchange, type CheckResult } from './check.ts';

export const EXCHANGE_HELP = `Usage: veloz exchange check [--json] [--stream-wait MS]

Checks that Binance accepts what the engine is configured with (the same VELOZ_* variables as
\`veloz engine\`; VELOZ_EXECUTION_MODE must be binance_testnet_spot or binance_spot):

  hosts        every URL belongs to the environment of the mode
  ping, clock  the trading host answers; clock offset and round trip against recvWindow
  symbols      VELOZ_MARKET_SYMBOL and VELOZ_SYMBOLS are listed, TRADING, and their filters load
  permissions  the API key signs and may trade (canTrade)
  order/test   a LIMIT order passes the exchange's checks without being placed
  order cycle  testnet only: a resting order placed, queried and canceled
  ioc          testnet only: a small IOC buy at the ask and the commission of its fills
  stream       the user data stream subscribes (on the testnet: the check's orders arrive on it)
  weight       the request-weight budget for the symbols and VELOZ_BINANCE_POLL_INTERVAL

It never places an order on the live exchange. Options:
  --json            one JSON object: {"ok": bool, "checks": [{name, status, detail}]}
  --stream-wait MS  how long to wait for the stream (default 5000)

Exit code: 0 when nothing failed (warnings allowed), 1 when a check failed, 2 usage.`;

const MARK: Record<CheckResult['status'], string> = {
  pass: 'ok  ',
  warn: 'WARN',
  fail: 'FAIL',
  skip: 'skip',
};

export async function exchangeCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    console.log(EXCHANGE_HELP);
    return sub ? 0 : 2;
  }
  if (sub !== 'check') throw new UsageError(`unknown subcommand "${sub}"`);
  const { values } = parse(rest, {
    json: { type: 'boolean' },
    'stream-wait': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(EXCHANGE_HELP);
    return 0;
  }
  const wait = values['stream-wait'] === undefined ? 5000 : Number(values['stream-wait']);
  if (!Number.isInteger(wait) || wait < 0)
    throw new UsageError('--stream-wait must be a non-negative integer');
  let config;
  try {
    config = loadConfig({ ...process.env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`veloz exchange check: invalid configuration:\n${err.message}\n`);
    return 1;
  }
  const log = createLogger(config.logLevel === 'debug' ? 'debug' : 'error', 2, 'veloz-exchange-check');
  const checks = await checkExchange({ config, log, streamWaitMs: wait });
  const ok = !checks.some((c) => c.status === 'fail');
  if (values.json) console.log(JSON.stringify({ ok, checks }, null, 2));
  else {
    for (const c of checks) console.log(`${MARK[c.status]}  ${c.name.padEnd(12)} ${c.detail}`);
    console.log(ok ? 'Binance accepts this configuration.' : 'Some checks failed.');
  }
  return ok ? 0 : 1;
}
