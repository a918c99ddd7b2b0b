// An engine process pointed at the fake Binance: testnet mode, every Binance host (REST, market
// streams, WebSocket API) on the fake, and the fake's key. No test engine reaches for the real
// exchange by a default it did not override.
import type { FakeBinance } from './server.ts';

export const FAKE_API_KEY = 'fake-api-key-0123456789';
export const FAKE_API_SECRET = 'fake-api-secret-abcdefghijklmnop';

/** The engine's environment for `fake`, writing its WAL in `walDir`; `extra` adds or overrides. */
export function fakeBinanceEngineEnv(
  fake: Pick<FakeBinance, 'url' | 'wsUrl' | 'wsApiUrl'>,
  walDir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    VELOZ_WAL_DIR: walDir,
    VELOZ_ORDER_RATE_LIMIT: '1000',
    VELOZ_MARKET_SOURCE: 'binance_ws',
    VELOZ_EXECUTION_MODE: 'binance_testnet_spot',
    VELOZ_BINANCE_BASE_URL: fake.url,
    VELOZ_BINANCE_TRADE_BASE_URL: fake.url,
    VELOZ_BINANCE_WS_BASE_URL: fake.wsUrl,
    VELOZ_BINANCE_WS_API_URL: fake.wsApiUrl,
    VELOZ_BINANCE_API_KEY: FAKE_API_KEY,
    VELOZ_BINANCE_API_SECRET: FAKE_API_SECRET,
    VELOZ_LOG_LEVEL: 'warn',
    ...extra,
  };
}
