// Which Binance environment a URL belongs to, so that testnet mode never reaches the live
// exchange (or live mode the testnet). The patterns are RE2 and JavaScript alike: the engine
// checks its variables with them, the CRD's CEL rules check the spec with them.
// Hosts from the official docs: rest-api.md, web-socket-streams.md and web-socket-api.md (live;
// data-api and data-stream serve live market data), and their testnet/ counterparts.

export type BinanceEnvironment = 'live' | 'testnet';

/** Case-insensitive patterns of the scheme and host (CEL prefixes `(?i)`, JavaScript uses the i flag). */
export const BINANCE_HOST_PATTERNS: Readonly<Record<BinanceEnvironment, string>> = {
  live: '^[a-z]+://((api[0-9]*|api-gcp|stream|ws-api)[.]binance[.]com|data-(api|stream)[.]binance[.]vision)([:/?#]|$)',
  testnet: '^[a-z]+://([a-z0-9-]+[.])*testnet[.]binance[.]vision([:/?#]|$)',
};

/** The URLs each environment uses when none is configured. */
export const BINANCE_DEFAULT_URLS: Readonly<
  Record<BinanceEnvironment, { rest: string; ws: string; trade: string; wsApi: string }>
> = {
  live: {
    rest: 'https://api.binance.com',
    ws: 'wss://stream.binance.com:9443/ws',
    trade: 'https://api.binance.com',
    wsApi: 'wss://ws-api.binance.com:443/ws-api/v3',
  },
  testnet: {
    rest: 'https://testnet.binance.vision',
    ws: 'wss://stream.testnet.binance.vision/ws',
    trade: 'https://testnet.binance.vision',
    wsApi: 'wss://ws-api.testnet.binance.vision/ws-api/v3',
  },
};

const compiled = {
  live: new RegExp(BINANCE_HOST_PATTERNS.live, 'i'),
  testnet: new RegExp(BINANCE_HOST_PATTERNS.testnet, 'i'),
};

/** The environment a URL's host belongs to; undefined for any other host (a proxy, a fake). */
export function binanceEnvironment(url: string): BinanceEnvironment | undefined {
  if (compiled.testnet.test(url)) return 'testnet';
  if (compiled.live.test(url)) return 'live';
  return undefined;
}

/** The environment an execution mode trades in (sim_engine trades nowhere). */
export function environmentOfMode(mode: string): BinanceEnvironment | undefined {
  return mode === 'binance_testnet_spot' ? 'testnet' : mode === 'binance_spot' ? 'live' : undefined;
}
