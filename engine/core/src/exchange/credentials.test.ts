import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binanceCredentials, ConfigError, gatewayApiKeys, loadConfig } from '@veloz/api/variables';

const live = {
  VELOZ_EXECUTION_MODE: 'binance_spot',
  VELOZ_MARKET_SOURCE: 'binance_ws',
};

describe('exchange credentials', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'veloz-creds-'));
    await writeFile(join(dir, 'key'), 'file-key\n');
    await writeFile(join(dir, 'secret'), 'file-secret');
    await writeFile(join(dir, 'empty'), '\n');
    await writeFile(join(dir, 'api-keys'), 'k1\nk2\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('refuses a live mode without credentials, naming the variables', () => {
    expect(() => loadConfig(live)).toThrow(/VELOZ_BINANCE_API_KEY \(or VELOZ_BINANCE_API_KEY_FILE\)/);
    expect(() => loadConfig({ ...live, VELOZ_BINANCE_API_KEY: 'k' })).toThrow(/VELOZ_BINANCE_API_SECRET/);
    expect(() => loadConfig({ ...live, VELOZ_BINANCE_API_KEY: '', VELOZ_BINANCE_API_SECRET: 's' })).toThrow(
      /refusing to start without credentials/,
    );
  });

  it('takes credentials from the variables or from files', () => {
    const a = loadConfig({ ...live, VELOZ_BINANCE_API_KEY: 'k', VELOZ_BINANCE_API_SECRET: 's' });
    expect(binanceCredentials(a)).toEqual({ apiKey: 'k', apiSecret: 's' });
    const b = loadConfig({
      ...live,
      VELOZ_BINANCE_API_KEY_FILE: join(dir, 'key'),
      VELOZ_BINANCE_API_SECRET_FILE: join(dir, 'secret'),
    });
    expect(binanceCredentials(b)).toEqual({ apiKey: 'file-key', apiSecret: 'file-secret' });
  });

  it.each([
    [
      { VELOZ_BINANCE_API_KEY_FILE: '/nonexistent/key' },
      /VELOZ_BINANCE_API_KEY_FILE=<hidden> is invalid: .*ENOENT/,
    ],
    [
      { VELOZ_BINANCE_API_KEY_FILE: 'EMPTY' },
      /VELOZ_BINANCE_API_KEY_FILE=<hidden> is invalid: expected a file that is not empty/,
    ],
    [{ VELOZ_BINANCE_API_KEY: 'k', VELOZ_BINANCE_API_KEY_FILE: 'KEY' }, /both set/],
    [
      { VELOZ_MARKET_SOURCE: 'sim', VELOZ_BINANCE_API_KEY: 'k', VELOZ_BINANCE_API_SECRET: 's' },
      /needs Binance prices/,
    ],
  ])('rejects %j', (env, message) => {
    const resolved = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [
        k,
        v === 'EMPTY' ? join(dir, 'empty') : v === 'KEY' ? join(dir, 'key') : v,
      ]),
    );
    expect(() => loadConfig({ ...live, VELOZ_BINANCE_API_SECRET: 's', ...resolved })).toThrow(message);
    expect(() => loadConfig({ ...live, VELOZ_BINANCE_API_SECRET: 's', ...resolved })).toThrow(ConfigError);
  });

  it('never shows a secret in an error', () => {
    try {
      loadConfig({ ...live, VELOZ_BINANCE_API_SECRET: 'super-secret-value', VELOZ_WAL_SYNC: 'maybe' });
    } catch (err) {
      expect(String(err)).not.toContain('super-secret-value');
    }
  });

  it('lets the gateway start without exchange credentials, and reads several API keys', () => {
    const c = loadConfig({ ...live, VELOZ_API_KEY_FILE: join(dir, 'api-keys') }, { role: 'gateway' });
    expect(gatewayApiKeys(c)).toEqual(['k1', 'k2']);
    expect(gatewayApiKeys(loadConfig({ VELOZ_API_KEY: 'a, b' }))).toEqual(['a', 'b']);
  });
});
