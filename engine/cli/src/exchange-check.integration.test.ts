// `veloz exchange check` as users run it (a real process), against the fake Binance standing in
// for the testnet: every check passes on a healthy account, and each kind of trouble fails (or
// warns) the check that owns it, with the exit code saying so.
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VELOZ_BIN } from '@veloz/testing/engine-process';
import { BTCUSDT, ETHUSDT, FakeBinance } from '@veloz/testing/fake-binance/server';

const KEY = 'fake-api-key-0123456789';
const SECRET = 'fake-api-secret-abcdefghijklmnop';

interface Report {
  ok: boolean;
  checks: Array<{ name: string; status: string; detail: string }>;
}

function run(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [VELOZ_BIN, ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('veloz exchange check', () => {
  let fake: FakeBinance;
  let env: Record<string, string>;

  beforeEach(async () => {
    fake = await FakeBinance.start({
      apiKey: KEY,
      apiSecret: SECRET,
      symbols: [BTCUSDT, ETHUSDT],
      commission: { rate: '0.001' },
    });
    env = {
      VELOZ_EXECUTION_MODE: 'binance_testnet_spot',
      VELOZ_MARKET_SOURCE: 'binance_ws',
      VELOZ_SYMBOLS: 'ETHUSDT',
      VELOZ_BINANCE_BASE_URL: fake.url,
      VELOZ_BINANCE_TRADE_BASE_URL: fake.url,
      VELOZ_BINANCE_WS_BASE_URL: fake.wsUrl,
      VELOZ_BINANCE_WS_API_URL: fake.wsApiUrl,
      VELOZ_BINANCE_API_KEY: KEY,
      VELOZ_BINANCE_API_SECRET: SECRET,
    };
  });
  afterEach(() => fake.close());

  const check = async (over: Record<string, string> = {}) => {
    const r = await run(['exchange', 'check', '--json', '--stream-wait', '3000'], { ...env, ...over });
    const report = JSON.parse(r.out) as Report;
    return { code: r.code, report, byName: new Map(report.checks.map((c) => [c.name, c])) };
  };

  it('passes every check on a healthy testnet account, trading a cycle and an IOC with commission', async () => {
    const { code, report, byName } = await check();
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([
      ['hosts', 'pass'],
      ['ping', 'pass'],
      ['clock', 'pass'],
      ['symbols', 'pass'],
      ['permissions', 'pass'],
      ['order/test', 'pass'],
      ['order cycle', 'pass'],
      ['ioc', 'pass'],
      ['stream', 'pass'],
      ['weight', 'pass'],
    ]);
    expect(code).toBe(0);
    expect(byName.get('ioc')!.detail).toMatch(/commission 0\.0000\d+ BTC/);
    expect(byName.get('stream')!.detail).toMatch(/[1-9]\d* executionReports/);
    // The cycle's order rests no more, and the check's orders are its own.
    const mine = [...fake.orders.values()];
    expect(mine.length).toBe(2);
    expect(mine.every((o) => o.clientOrderId.startsWith('veloz-check-'))).toBe(true);
    expect(mine.map((o) => o.status).sort()).toEqual(['CANCELED', 'FILLED']);
    expect(fake.count('POST', '/api/v3/order/test')).toBe(1);
  });

  it('fails permissions for a key that cannot trade, and trades nothing', async () => {
    fake.canTrade = false;
    const { code, byName } = await check();
    expect(code).toBe(1);
    expect(byName.get('permissions')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/canTrade/),
    });
    expect(byName.get('order cycle')!.status).toBe('skip');
    expect(fake.orders.size).toBe(0);
  });

  it('fails symbols for one that is not TRADING, naming it', async () => {
    fake.setSymbolStatus('ETHUSDT', 'HALT');
    const { code, byName } = await check();
    expect(code).toBe(1);
    expect(byName.get('symbols')).toMatchObject({
      status: 'fail',
      detail: 'ETHUSDT is HALT on Binance, not TRADING',
    });
  });

  it('fails the stream when the WebSocket API cannot be reached', async () => {
    fake.refuseStreams = true;
    const { code, byName } = await check();
    expect(code).toBe(1);
    expect(byName.get('stream')!.status).toBe('fail');
  });

  it('warns when REST market data at the poll interval would exceed its share of the weight limit', async () => {
    const { code, byName } = await check({
      VELOZ_MARKET_SOURCE: 'binance_rest',
      VELOZ_BINANCE_POLL_INTERVAL: '200',
    });
    expect(code).toBe(0);
    expect(byName.get('weight')).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/market data will poll every 1000 ms instead of 200 ms/),
    });
  });

  it('never trades on the live exchange', async () => {
    const r = await run(['exchange', 'check', '--json'], {
      ...env,
      VELOZ_EXECUTION_MODE: 'binance_spot',
      VELOZ_BINANCE_BASE_URL: 'https://testnet.binance.vision',
    });
    // A testnet host in live mode is refused before anything is asked.
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/host\/mode mismatch: VELOZ_BINANCE_BASE_URL/);
    const live = await check({ VELOZ_EXECUTION_MODE: 'binance_spot' });
    expect(live.byName.get('order cycle')!.status).toBe('skip');
    expect(live.byName.get('ioc')!.status).toBe('skip');
    expect(fake.count('POST', '/api/v3/order')).toBe(0);
  });
});
