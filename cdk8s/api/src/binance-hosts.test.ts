import { describe, expect, it } from 'vitest';
import { binanceEnvironment } from './binance-hosts.ts';
import { binanceUrls, ConfigError, loadConfig } from './variables.ts';

const creds = {
  VELOZ_BINANCE_API_KEY: 'k',
  VELOZ_BINANCE_API_SECRET: 's',
  VELOZ_MARKET_SOURCE: 'binance_ws',
};

describe('Binance hosts follow the execution mode', () => {
  it.each([
    ['https://api.binance.com', 'live'],
    ['https://api3.binance.com/', 'live'],
    ['https://API-GCP.binance.com', 'live'],
    ['wss://stream.binance.com:9443/ws', 'live'],
    ['wss://ws-api.binance.com/ws-api/v3', 'live'],
    ['https://data-api.binance.vision', 'live'],
    ['wss://data-stream.binance.vision/stream', 'live'],
    ['https://testnet.binance.vision', 'testnet'],
    ['wss://stream.testnet.binance.vision/ws', 'testnet'],
    ['wss://ws-api.testnet.binance.vision/ws-api/v3', 'testnet'],
    ['https://binance.com.evil.example', undefined],
    ['http://127.0.0.1:8080', undefined],
    ['https://demo-api.binance.com', undefined],
  ])('%s is %s', (url, env) => expect(binanceEnvironment(url)).toBe(env));

  it('uses the testnet for every URL in testnet mode unless set', () => {
    const c = loadConfig({ ...creds, VELOZ_EXECUTION_MODE: 'binance_testnet_spot' });
    expect(binanceUrls(c)).toEqual({
      rest: 'https://testnet.binance.vision',
      ws: 'wss://stream.testnet.binance.vision/ws',
      trade: 'https://testnet.binance.vision',
      wsApi: 'wss://ws-api.testnet.binance.vision/ws-api/v3',
    });
    const live = loadConfig({ ...creds, VELOZ_EXECUTION_MODE: 'binance_spot' });
    expect(binanceUrls(live).trade).toBe('https://api.binance.com');
    expect(binanceUrls(loadConfig({})).ws).toBe('wss://stream.binance.com:9443/ws');
    const proxy = loadConfig({
      ...creds,
      VELOZ_EXECUTION_MODE: 'binance_testnet_spot',
      VELOZ_BINANCE_TRADE_BASE_URL: 'http://127.0.0.1:1',
    });
    expect(binanceUrls(proxy).trade).toBe('http://127.0.0.1:1');
  });

  it.each([
    ['binance_testnet_spot', 'VELOZ_BINANCE_TRADE_BASE_URL', 'https://api.binance.com'],
    ['binance_testnet_spot', 'VELOZ_BINANCE_BASE_URL', 'https://data-api.binance.vision'],
    ['binance_testnet_spot', 'VELOZ_BINANCE_WS_BASE_URL', 'wss://stream.binance.com:9443/ws'],
    ['binance_spot', 'VELOZ_BINANCE_TRADE_BASE_URL', 'https://testnet.binance.vision'],
    ['binance_spot', 'VELOZ_BINANCE_WS_BASE_URL', 'wss://stream.testnet.binance.vision/ws'],
    ['binance_testnet_spot', 'VELOZ_BINANCE_WS_API_URL', 'wss://ws-api.binance.com:443/ws-api/v3'],
    ['binance_spot', 'VELOZ_BINANCE_WS_API_URL', 'wss://ws-api.testnet.binance.vision/ws-api/v3'],
  ])('refuses %s with %s=%s, naming the variable', (mode, name, value) => {
    const env = { ...creds, VELOZ_EXECUTION_MODE: mode, [name]: value };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(
      new RegExp(`host/mode mismatch: ${name}=${value.replace(/[.]/g, '[.]')} is a`),
    );
  });

  it('leaves simulated execution on live prices alone', () => {
    expect(() =>
      loadConfig({
        VELOZ_MARKET_SOURCE: 'binance_ws',
        VELOZ_BINANCE_WS_BASE_URL: 'wss://stream.binance.com:9443/ws',
      }),
    ).not.toThrow();
  });
});
