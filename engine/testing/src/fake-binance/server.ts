// A local fake of the Binance Spot API for tests, faithful to the official documentation
// (binance-spot-api-docs: rest-api.md, errors.md, filters.md, enums.md, web-socket-streams.md)
// for every endpoint it serves; fixtures/ keeps the documented sample answers it is tested
// against. REST: signed endpoints verified like Binance (X-MBX-APIKEY, HMAC-SHA256 over the query
// string and form body, timestamp within recvWindow), request weights in X-MBX-USED-WEIGHT-1M.
// WebSocket market streams (streams.ts) and the WebSocket API's user data stream (ws-api.ts,
// user-events.ts), on 127.0.0.1 only.
// Tests tell it to fail: error answers (429/418 with Retry-After, 403, -1006/-1007 after
// executing or not, anything), -1021 via a skewed clock, 5XX before or after executing, answers
// that never come, requests that arrive late, symbols that stop TRADING, extra filters, real
// commission (in the received asset or another), balances, dropped streams, gaps in trade ids,
// partial fills and serverShutdown. Its own book-keeping is the exchange's "true state".
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { hmacSha256Hex } from '@veloz/engine/exchange/signing';
import { readBody, requestParams } from './request.ts';
import { FakeStreams } from './streams.ts';
import { accountPosition, executionReport, type ExecutionType } from './user-events.ts';
import { FakeWsApi } from './ws-api.ts';
import { requestWeight } from './weights.ts';

const SCALE = 100_000_000n;

/** "50000.01" -> 5000001000000n (units of 1e-8, Binance's precision). */
export function toUnits(text: string): bigint {
  const m = /^(\d+)(?:\.(\d{0,8}))?$/.exec(text);
  if (!m) throw new Error(`bad decimal ${text}`);
  return BigInt(m[1]!) * SCALE + BigInt((m[2] ?? '').padEnd(8, '0'));
}

export function fromUnits(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  return `${neg ? '-' : ''}${a / SCALE}.${(a % SCALE).toString().padStart(8, '0')}`;
}

/** Symbol statuses of enums.md. */
export type SymbolStatus = 'TRADING' | 'END_OF_DAY' | 'HALT' | 'BREAK' | 'CANCEL_ONLY';

export interface FakeSymbolSpec {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  /** "0" disables the rule (filters.md). */
  tickSize: string;
  stepSize: string;
  minQty: string;
  minNotional: string;
  bid: string;
  ask: string;
  status?: SymbolStatus;
  /** Further filters listed in exchangeInfo (not enforced). */
  extraFilters?: Array<Record<string, unknown>>;
}

export const BTCUSDT: FakeSymbolSpec = {
  symbol: 'BTCUSDT',
  baseAsset: 'BTC',
  quoteAsset: 'USDT',
  tickSize: '0.01',
  stepSize: '0.00001',
  minQty: '0.00001',
  minNotional: '5',
  bid: '50000.00',
  ask: '50000.10',
};

/** A symbol as Binance states it at its least convenient: tick size 0 (price filter disabled) and
 * filters beyond the ones the engine enforces. */
export const ETHUSDT: FakeSymbolSpec = {
  symbol: 'ETHUSDT',
  baseAsset: 'ETH',
  quoteAsset: 'USDT',
  tickSize: '0',
  stepSize: '0.0001',
  minQty: '0.0001',
  minNotional: '5',
  bid: '3000.00',
  ask: '3000.50',
  extraFilters: [
    {
      filterType: 'PERCENT_PRICE_BY_SIDE',
      bidMultiplierUp: '5',
      bidMultiplierDown: '0.2',
      askMultiplierUp: '5',
      askMultiplierDown: '0.2',
      avgPriceMins: 5,
    },
    { filterType: 'MAX_NUM_ORDERS', maxNumOrders: 200 },
  ],
};

export type Failure =
  /**
   * An error answer. Without a code the body is an HTML page (a WAF's 403). `execute` runs the
   * request first (-1006 and -1007 may come after the order was placed).
   */
  | { kind: 'error'; status: number; code?: number; msg: string; retryAfter?: number; execute?: boolean }
  /** A 5XX, after executing the request or not. */
  | { kind: 'server_error'; status?: number; execute: boolean }
  /** No answer at all until the client gives up, after executing the request or not. */
  | { kind: 'timeout'; execute: boolean }
  /** The request reaches the exchange `delayMs` late: checked and executed then, answered then. */
  | { kind: 'late'; delayMs: number };

interface FailRule {
  method: string | undefined;
  path: string;
  failure: Failure;
  times: number;
}

/**
 * The fee of each trade: `rate` of what the trade gives. Without `asset` it is taken from the
 * asset received (base on a buy, quote on a sell), as Binance does without a BNB discount; with
 * one it is taken in that asset, valued at par with the quote asset (a fake's simplification).
 */
export interface CommissionSpec {
  rate: string;
  asset?: string;
}

export interface FakeTrade {
  id: number;
  orderId: number;
  price: bigint;
  qty: bigint;
  commission: bigint;
  commissionAsset: string;
  time: number;
  isBuyer: boolean;
  isMaker: boolean;
}

export interface FakeOrder {
  symbol: string;
  orderId: number;
  clientOrderId: string;
  side: 'BUY' | 'SELL';
  type: 'LIMIT' | 'MARKET';
  timeInForce: string;
  price: bigint;
  origQty: bigint;
  executedQty: bigint;
  cummulativeQuoteQty: bigint;
  status: 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED' | 'REJECTED';
  time: number;
  updateTime: number;
  trades: FakeTrade[];
  /** Funds held for the rest of a resting order (quote for a buy, base for a sell). */
  locked: bigint;
}

interface SymbolState {
  spec: FakeSymbolSpec;
  status: SymbolStatus;
  bid: bigint;
  ask: bigint;
  bidQty: bigint;
  askQty: bigint;
  nextTradeId: number;
  updateId: number;
  publicTrades: Array<{ id: number; price: bigint; qty: bigint; time: number; isBuyerMaker: boolean }>;
}

interface Balance {
  free: bigint;
  locked: bigint;
}

export interface FakeBinanceOptions {
  apiKey: string;
  apiSecret: string;
  symbols?: FakeSymbolSpec[];
  /** Server-initiated WebSocket pings (Binance sends one every 20 s). */
  pingIntervalMs?: number;
  /** Republish every book ticker this often, like a live market (0: only on setBook). */
  bookTickerIntervalMs?: number;
  /** Starting balances by asset; default 1000 of every base asset and 100,000,000 of every quote asset. */
  balances?: Record<string, string>;
  commission?: CommissionSpec;
  /** REQUEST_WEIGHT per window in exchangeInfo (default 6000, the docs' figure). */
  weightLimit?: number;
  /**
   * The REQUEST_WEIGHT window (default 1 MINUTE). A shorter one scales time for tests: the
   * exchangeInfo entry and the X-MBX-USED-WEIGHT-(n)(letter) header follow it, as the docs define.
   */
  weightWindow?: { interval: 'SECOND' | 'MINUTE'; intervalNum: number };
  /** Answer 429 (-1003, Retry-After) to a request that takes the window's weight over the limit. */
  enforceWeightLimit?: boolean;
}

type Send = (status: number, body: unknown, headers?: Record<string, string>) => void;
type Fail = (status: number, code: number, msg: string) => void;

const MAX_LIMIT = 1000;

export class FakeBinance {
  readonly apiKey: string;
  private readonly apiSecret: string;
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly streams = new FakeStreams();
  /** The WebSocket API at /ws-api/v3: user data stream subscriptions and their events. */
  readonly wsApi: FakeWsApi;
  private readonly symbols = new Map<string, SymbolState>();
  readonly orders = new Map<number, FakeOrder>();
  readonly balances = new Map<string, Balance>();
  private nextOrderId = 1000;
  private nextCancelId = 1;
  private rules: FailRule[] = [];
  private readonly held = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private pinger: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  /** Request weight per window: [window number, used]. */
  private weight: [number, number] = [0, 0];
  private readonly weightWindow: { interval: 'SECOND' | 'MINUTE'; intervalNum: number };
  private readonly weightWindowMs: number;
  private readonly enforceWeight: boolean;
  /** The most weight any window has counted. */
  peakWeight = 0;
  /** Requests answered 429 because the window's weight was used up. */
  weightRejections = 0;
  /** Added to the exchange clock: a large value makes clients' timestamps fall outside recvWindow. */
  clockSkewMs = 0;
  /** The next order that crosses the book fills only this fraction of its quantity at once. */
  nextFillFraction: number | undefined;
  /** When true, WebSocket upgrades are refused (the stream endpoint is "down"). */
  refuseStreams = false;
  commission: CommissionSpec | undefined;
  /** The account's canTrade (false: a key without Spot trading enabled). */
  canTrade = true;
  /** Every REST request: method, path and HTTP status of the answer (0: none was sent). */
  readonly log: Array<{ method: string; path: string; status: number }> = [];
  url = '';
  wsUrl = '';
  wsApiUrl = '';
  readonly weightLimit: number;

  constructor(opts: FakeBinanceOptions) {
    this.apiKey = opts.apiKey;
    this.apiSecret = opts.apiSecret;
    this.commission = opts.commission;
    this.weightLimit = opts.weightLimit ?? 6000;
    this.weightWindow = opts.weightWindow ?? { interval: 'MINUTE', intervalNum: 1 };
    this.weightWindowMs =
      (this.weightWindow.interval === 'SECOND' ? 1000 : 60_000) * this.weightWindow.intervalNum;
    this.enforceWeight = opts.enforceWeightLimit ?? false;
    this.wsApi = new FakeWsApi({
      apiKey: opts.apiKey,
      apiSecret: opts.apiSecret,
      serverTime: () => this.serverTime(),
      weigh: (w) => this.usedWeight(w),
      weightLimit: this.weightLimit,
    });
    for (const s of opts.symbols ?? [BTCUSDT]) {
      this.symbols.set(s.symbol, {
        spec: s,
        status: s.status ?? 'TRADING',
        bid: toUnits(s.bid),
        ask: toUnits(s.ask),
        bidQty: toUnits('1.5'),
        askQty: toUnits('2.5'),
        nextTradeId: 1,
        updateId: 1,
        publicTrades: [],
      });
      if (!opts.balances) {
        this.balances.set(s.baseAsset, { free: toUnits('1000'), locked: 0n });
        this.balances.set(s.quoteAsset, { free: toUnits('100000000'), locked: 0n });
      }
    }
    for (const [asset, amount] of Object.entries(opts.balances ?? {}))
      this.balances.set(asset, { free: toUnits(amount), locked: 0n });
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      if (this.refuseStreams) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) =>
        (req.url ?? '').startsWith('/ws-api/') ? this.wsApi.accept(ws) : this.streams.accept(ws, req),
      );
    });
    if (opts.bookTickerIntervalMs) {
      this.ticker = setInterval(() => {
        for (const st of this.symbols.values())
          this.setBook(
            st.spec.symbol,
            fromUnits(st.bid),
            fromUnits(st.ask),
            fromUnits(st.bidQty),
            fromUnits(st.askQty),
          );
      }, opts.bookTickerIntervalMs);
    }
    if (opts.pingIntervalMs) this.pinger = setInterval(() => this.streams.ping(), opts.pingIntervalMs);
  }

  static async start(opts: FakeBinanceOptions): Promise<FakeBinance> {
    const f = new FakeBinance(opts);
    f.server.listen(0, '127.0.0.1');
    await once(f.server, 'listening');
    const port = (f.server.address() as AddressInfo).port;
    f.url = `http://127.0.0.1:${port}`;
    f.wsUrl = `ws://127.0.0.1:${port}/ws`;
    f.wsApiUrl = `ws://127.0.0.1:${port}/ws-api/v3`;
    return f;
  }

  async close(): Promise<void> {
    if (this.pinger) clearInterval(this.pinger);
    if (this.ticker) clearInterval(this.ticker);
    for (const t of this.timers) clearTimeout(t);
    this.streams.drop();
    this.wsApi.drop();
    for (const r of this.held) r.destroy();
    for (const s of this.sockets) s.destroy();
    this.wss.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  serverTime(): number {
    return Date.now() + this.clockSkewMs;
  }

  /** The next `times` requests matching `path` (and `method`) fail as told. */
  failNext(match: { method?: string; path: string }, failure: Failure, times = 1): void {
    this.rules.push({ method: match.method, path: match.path, failure, times });
  }

  clearFailures(): void {
    this.rules = [];
  }

  order(clientOrderId: string): FakeOrder | undefined {
    for (const o of this.orders.values()) if (o.clientOrderId === clientOrderId) return o;
    return undefined;
  }

  count(method: string, path: string): number {
    return this.log.filter((l) => l.method === method && l.path === path).length;
  }

  balance(asset: string): { free: string; locked: string } {
    const b = this.balances.get(asset) ?? { free: 0n, locked: 0n };
    return { free: fromUnits(b.free), locked: fromUnits(b.locked) };
  }

  /** A symbol's trading status changes (enums.md: TRADING, END_OF_DAY, HALT, BREAK, CANCEL_ONLY). */
  setSymbolStatus(symbol: string, status: SymbolStatus): void {
    this.sym(symbol).status = status;
  }

  // ---- market ----

  private sym(symbol: string): SymbolState {
    const s = this.symbols.get(symbol);
    if (!s) throw new Error(`unknown symbol ${symbol}`);
    return s;
  }

  setBook(symbol: string, bid: string, ask: string, bidQty = '1.5', askQty = '2.5'): void {
    const s = this.sym(symbol);
    s.bid = toUnits(bid);
    s.ask = toUnits(ask);
    s.bidQty = toUnits(bidQty);
    s.askQty = toUnits(askQty);
    s.updateId += 1;
    this.streams.broadcast(`${symbol.toLowerCase()}@bookTicker`, {
      u: s.updateId,
      s: symbol,
      b: fromUnits(s.bid),
      B: fromUnits(s.bidQty),
      a: fromUnits(s.ask),
      A: fromUnits(s.askQty),
    });
  }

  /** A public trade printed on the stream (and kept for GET /api/v3/trades). */
  publishTrade(symbol: string, price: string, qty: string, isBuyerMaker = false): number {
    return this.trade(symbol, toUnits(price), toUnits(qty), isBuyerMaker);
  }

  private trade(symbol: string, price: bigint, qty: bigint, isBuyerMaker: boolean): number {
    const s = this.sym(symbol);
    const id = s.nextTradeId++;
    const time = this.serverTime();
    s.publicTrades.push({ id, price, qty, time, isBuyerMaker });
    if (s.publicTrades.length > 1000) s.publicTrades.shift();
    this.streams.broadcast(`${symbol.toLowerCase()}@trade`, {
      e: 'trade',
      E: time,
      s: symbol,
      t: id,
      p: fromUnits(price),
      q: fromUnits(qty),
      T: time,
      m: isBuyerMaker,
      M: true,
    });
    return id;
  }

  /** Trades happen that the stream never delivers: the next trade id jumps by `n`. */
  skipTradeIds(symbol: string, n: number): void {
    this.sym(symbol).nextTradeId += n;
  }

  /** Drops every WebSocket connection abruptly (no close frame). */
  dropStreams(): void {
    this.streams.drop();
  }

  /** Announces a shutdown on every stream connection (web-socket-streams.md, "Server Shutdown"). */
  serverShutdown(): void {
    this.streams.serverShutdown(this.serverTime());
  }

  get streamClients(): number {
    return this.streams.clients;
  }

  get pongs(): number {
    return this.streams.pongs;
  }

  get wsConnections(): number {
    return this.streams.connections;
  }

  // ---- REST ----

  private usedWeight(add: number): number {
    const window = Math.floor(this.serverTime() / this.weightWindowMs);
    if (this.weight[0] !== window) this.weight = [window, 0];
    this.weight[1] += add;
    this.peakWeight = Math.max(this.peakWeight, this.weight[1]);
    return this.weight[1];
  }

  /** X-MBX-USED-WEIGHT-(intervalNum)(intervalLetter) of the weight window. */
  private get weightHeader(): string {
    return `x-mbx-used-weight-${this.weightWindow.intervalNum}${this.weightWindow.interval === 'SECOND' ? 's' : 'm'}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [pathPart, rawQuery = ''] = (req.url ?? '/').split('?', 2) as [string, string?];
    const method = req.method ?? 'GET';
    const path = new URL(pathPart, 'http://x').pathname;
    const body = await readBody(req);
    const rp = requestParams(method, rawQuery, body, req.headers['content-type'] ?? '');
    const weight = requestWeight(method, path, rp.params);
    const send: Send = (status, answer, headers = {}) => {
      this.log.push({ method, path, status });
      if (res.destroyed) return;
      res.writeHead(status, {
        'content-type': 'application/json;charset=UTF-8',
        'x-mbx-used-weight': String(this.weight[1]),
        [this.weightHeader]: String(this.weight[1]),
        ...headers,
      });
      res.end(JSON.stringify(answer));
    };
    const fail: Fail = (status, code, msg) => send(status, { code, msg });
    if (this.usedWeight(weight) > this.weightLimit && this.enforceWeight) {
      this.weightRejections += 1;
      const left = this.weightWindowMs - (this.serverTime() % this.weightWindowMs);
      return send(
        429,
        {
          code: -1003,
          msg: `Too much request weight used; current limit is ${this.weightLimit} request weight per ${this.weightWindow.intervalNum} ${this.weightWindow.interval}. Please use WebSocket Streams for live updates to avoid polling the API.`,
        },
        { 'retry-after': String(Math.ceil(left / 1000)) },
      );
    }
    const rule = this.rules.find((r) => r.path === path && (!r.method || r.method === method));
    if (rule) {
      rule.times -= 1;
      if (rule.times <= 0) this.rules = this.rules.filter((r) => r !== rule);
      const f = rule.failure;
      const quiet = () => {};
      switch (f.kind) {
        case 'late': {
          this.held.add(res);
          res.on('close', () => this.held.delete(res));
          const t = setTimeout(() => {
            this.timers.delete(t);
            this.held.delete(res);
            this.route(method, path, rp, req, send, fail);
          }, f.delayMs);
          this.timers.add(t);
          return;
        }
        case 'error': {
          if (f.execute) this.route(method, path, rp, req, quiet, quiet);
          const headers: Record<string, string> = {};
          if (f.retryAfter !== undefined) headers['retry-after'] = String(f.retryAfter);
          if (f.code === undefined) {
            // A WAF block or a proxy answers with a page, not a Binance error.
            this.log.push({ method, path, status: f.status });
            res.writeHead(f.status, { 'content-type': 'text/html', ...headers });
            res.end(`<html><body>${f.msg}</body></html>`);
            return;
          }
          send(f.status, { code: f.code, msg: f.msg }, headers);
          return;
        }
        case 'server_error':
        case 'timeout': {
          // Execute for real, then lose the answer.
          if (f.execute) this.route(method, path, rp, req, quiet, quiet);
          if (f.kind === 'server_error') {
            const status = f.status ?? 503;
            this.log.push({ method, path, status });
            res.writeHead(status, { 'content-type': 'text/html' });
            res.end('<html><body>Service Unavailable</body></html>');
          } else {
            this.log.push({ method, path, status: 0 });
            this.held.add(res);
            res.on('close', () => this.held.delete(res));
          }
          return;
        }
      }
    }
    this.route(method, path, rp, req, send, fail);
  }

  private route(
    method: string,
    path: string,
    rp: ReturnType<typeof requestParams>,
    req: IncomingMessage,
    send: Send,
    fail: Fail,
  ): void {
    const q = rp.params;
    const key = `${method} ${path}`;
    switch (key) {
      case 'GET /api/v3/ping':
        return send(200, {});
      case 'GET /api/v3/time':
        return send(200, { serverTime: this.serverTime() });
      case 'GET /api/v3/exchangeInfo':
        return this.exchangeInfo(q, send, fail);
      case 'GET /api/v3/depth': {
        const s = this.symbols.get(q.get('symbol') ?? '');
        if (!s) return fail(400, -1121, 'Invalid symbol.');
        const tick = toUnits(s.spec.tickSize) || toUnits('0.00000001');
        const levels = Math.min(Number(q.get('limit') ?? 100), 5);
        const side = (best: bigint, qty: bigint, dir: bigint) =>
          Array.from({ length: levels }, (_, i) => [
            fromUnits(best + dir * BigInt(i) * tick),
            fromUnits(qty),
          ]);
        return send(200, {
          lastUpdateId: s.updateId,
          bids: side(s.bid, s.bidQty, -1n),
          asks: side(s.ask, s.askQty, 1n),
        });
      }
      case 'GET /api/v3/trades': {
        const s = this.symbols.get(q.get('symbol') ?? '');
        if (!s) return fail(400, -1121, 'Invalid symbol.');
        const limit = Math.min(Number(q.get('limit') ?? 500), MAX_LIMIT);
        return send(
          200,
          s.publicTrades.slice(-limit).map((t) => ({
            id: t.id,
            price: fromUnits(t.price),
            qty: fromUnits(t.qty),
            quoteQty: fromUnits((t.price * t.qty) / SCALE),
            time: t.time,
            isBuyerMaker: t.isBuyerMaker,
            isBestMatch: true,
          })),
        );
      }
      case 'GET /api/v3/aggTrades': {
        const s = this.symbols.get(q.get('symbol') ?? '');
        if (!s) return fail(400, -1121, 'Invalid symbol.');
        const limit = Math.min(Number(q.get('limit') ?? 500), MAX_LIMIT);
        const fromId = q.get('fromId');
        const list = fromId
          ? s.publicTrades.filter((t) => t.id >= Number(fromId)).slice(0, limit)
          : s.publicTrades.slice(-limit);
        // Every trade of the fake is its own taker order, so an aggregate is one trade.
        return send(
          200,
          list.map((t) => ({
            a: t.id,
            p: fromUnits(t.price),
            q: fromUnits(t.qty),
            f: t.id,
            l: t.id,
            T: t.time,
            m: t.isBuyerMaker,
            M: true,
          })),
        );
      }
      case 'GET /api/v3/ticker/bookTicker':
        return this.perSymbol(q, send, fail, (s) => ({
          symbol: s.spec.symbol,
          bidPrice: fromUnits(s.bid),
          bidQty: fromUnits(s.bidQty),
          askPrice: fromUnits(s.ask),
          askQty: fromUnits(s.askQty),
        }));
      case 'GET /api/v3/ticker/price':
        return this.perSymbol(q, send, fail, (s) => ({
          symbol: s.spec.symbol,
          price: fromUnits(s.publicTrades.at(-1)?.price ?? (s.bid + s.ask) / 2n),
        }));
      case 'GET /api/v3/ticker/24hr':
        return this.perSymbol(q, send, fail, (s) => this.ticker24h(s, q.get('type') === 'MINI'));
    }
    const signed = [
      '/api/v3/order',
      '/api/v3/order/test',
      '/api/v3/openOrders',
      '/api/v3/allOrders',
      '/api/v3/myTrades',
      '/api/v3/account',
    ];
    if (!signed.includes(path)) return fail(404, -1000, `unknown endpoint ${key}`);
    const authError = this.verify(req, rp);
    if (authError) return fail(authError.status, authError.code, authError.msg);
    switch (key) {
      case 'POST /api/v3/order':
        return this.newOrder(q, send, fail, false);
      case 'POST /api/v3/order/test':
        return this.newOrder(q, send, fail, true);
      case 'GET /api/v3/order': {
        const o = this.find(q, fail, [-2013, 'Order does not exist.']);
        if (!o) return;
        return send(200, this.view(o));
      }
      case 'DELETE /api/v3/order': {
        const o = this.find(q, fail, [-2011, 'Unknown order sent.']);
        if (!o) return;
        if (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED')
          return fail(400, -2011, 'Unknown order sent.');
        if (this.sym(o.symbol).status === 'HALT' || this.sym(o.symbol).status === 'BREAK')
          return fail(400, -2011, 'Market is closed.');
        return send(200, this.cancelReport(o, q.get('newClientOrderId')));
      }
      case 'DELETE /api/v3/openOrders': {
        const s = this.symbols.get(q.get('symbol') ?? '');
        if (!s) return fail(400, -1121, 'Invalid symbol.');
        const open = this.openOrders(s.spec.symbol);
        if (open.length === 0) return fail(400, -2011, 'Unknown order sent.');
        return send(
          200,
          open.map((o) => this.cancelReport(o, null)),
        );
      }
      case 'GET /api/v3/openOrders': {
        const symbol = q.get('symbol');
        if (symbol && !this.symbols.has(symbol)) return fail(400, -1121, 'Invalid symbol.');
        return send(
          200,
          this.openOrders(symbol ?? undefined).map((o) => this.view(o)),
        );
      }
      case 'GET /api/v3/allOrders': {
        const symbol = q.get('symbol');
        if (!symbol)
          return fail(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
        if (!this.symbols.has(symbol)) return fail(400, -1121, 'Invalid symbol.');
        const limit = Math.min(Number(q.get('limit') ?? 500), MAX_LIMIT);
        const fromOrder = q.get('orderId');
        const start = Number(q.get('startTime') ?? 0);
        const end = Number(q.get('endTime') ?? Number.MAX_SAFE_INTEGER);
        const all = [...this.orders.values()]
          .filter((o) => o.symbol === symbol && o.time >= start && o.time <= end)
          .filter((o) => !fromOrder || o.orderId >= Number(fromOrder))
          .sort((a, b) => a.orderId - b.orderId);
        return send(
          200,
          (fromOrder ? all.slice(0, limit) : all.slice(-limit)).map((o) => this.view(o)),
        );
      }
      case 'GET /api/v3/myTrades':
        return this.myTrades(q, send, fail);
      case 'GET /api/v3/account':
        return send(200, this.account(q.get('omitZeroBalances') === 'true'));
    }
    return fail(404, -1000, `unknown endpoint ${key}`);
  }

  /** One object for `symbol`, an array for `symbols` (or for every symbol without either). */
  private perSymbol(q: URLSearchParams, send: Send, fail: Fail, view: (s: SymbolState) => unknown): void {
    const one = q.get('symbol');
    const many = q.get('symbols');
    if (one && many) return fail(400, -1128, 'Combination of optional parameters invalid.');
    if (one) {
      const s = this.symbols.get(one);
      return s ? send(200, view(s)) : fail(400, -1121, 'Invalid symbol.');
    }
    let names = [...this.symbols.keys()];
    if (many) {
      const parsed = parseSymbols(many);
      if (!parsed)
        return fail(
          400,
          -1100,
          'Illegal characters found in parameter \'symbols\'; legal range is \'^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$\'.',
        );
      if (parsed.some((n) => !this.symbols.has(n))) return fail(400, -1121, 'Invalid symbol.');
      names = parsed;
    }
    return send(
      200,
      names.map((n) => view(this.symbols.get(n)!)),
    );
  }

  private ticker24h(s: SymbolState, mini: boolean) {
    const now = this.serverTime();
    const day = s.publicTrades.filter((t) => t.time > now - 86_400_000);
    const first = day[0];
    const last = day.at(-1);
    const open = first?.price ?? 0n;
    const close = last?.price ?? 0n;
    const high = day.reduce((m, t) => (t.price > m ? t.price : m), 0n);
    const low = day.reduce((m, t) => (m === 0n || t.price < m ? t.price : m), 0n);
    const volume = day.reduce((v, t) => v + t.qty, 0n);
    const quoteVolume = day.reduce((v, t) => v + (t.price * t.qty) / SCALE, 0n);
    const common = {
      symbol: s.spec.symbol,
      openPrice: fromUnits(open),
      highPrice: fromUnits(high),
      lowPrice: fromUnits(low),
      lastPrice: fromUnits(close),
      volume: fromUnits(volume),
      quoteVolume: fromUnits(quoteVolume),
      openTime: now - 86_400_000,
      closeTime: now,
      firstId: first?.id ?? -1,
      lastId: last?.id ?? -1,
      count: day.length,
    };
    if (mini) return common;
    const change = close - open;
    return {
      symbol: s.spec.symbol,
      priceChange: fromUnits(change),
      priceChangePercent: open > 0n ? (Number((change * 100_000n) / open) / 1000).toFixed(3) : '0.000',
      weightedAvgPrice: fromUnits(volume > 0n ? (quoteVolume * SCALE) / volume : 0n),
      prevClosePrice: fromUnits(open),
      lastPrice: fromUnits(close),
      lastQty: fromUnits(last?.qty ?? 0n),
      bidPrice: fromUnits(s.bid),
      bidQty: fromUnits(s.bidQty),
      askPrice: fromUnits(s.ask),
      askQty: fromUnits(s.askQty),
      openPrice: common.openPrice,
      highPrice: common.highPrice,
      lowPrice: common.lowPrice,
      volume: common.volume,
      quoteVolume: common.quoteVolume,
      openTime: common.openTime,
      closeTime: common.closeTime,
      firstId: common.firstId,
      lastId: common.lastId,
      count: common.count,
    };
  }

  private verify(
    req: IncomingMessage,
    rp: ReturnType<typeof requestParams>,
  ): { status: number; code: number; msg: string } | null {
    const key = req.headers['x-mbx-apikey'];
    if (!key) return { status: 401, code: -2014, msg: 'API-key format invalid.' };
    if (key !== this.apiKey)
      return { status: 401, code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' };
    const q = rp.params;
    if (!q.get('timestamp'))
      return {
        status: 400,
        code: -1102,
        msg: "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
      };
    if (rp.signature === undefined || rp.signedPayload === undefined)
      return {
        status: 400,
        code: -1102,
        msg: "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
      };
    // HMAC signatures are not case-sensitive (rest-api.md, "Signature Case Sensitivity").
    if (hmacSha256Hex(rp.signedPayload, this.apiSecret) !== rp.signature.toLowerCase())
      return { status: 400, code: -1022, msg: 'Signature for this request is not valid.' };
    const recvWindow = Number(q.get('recvWindow') ?? 5000);
    if (!(recvWindow > 0 && recvWindow <= 60_000))
      return { status: 400, code: -1130, msg: "Data sent for parameter 'recvWindow' is not valid." };
    const ts = Number(q.get('timestamp'));
    const now = this.serverTime();
    if (ts >= now + 1000)
      return {
        status: 400,
        code: -1021,
        msg: "Timestamp for this request was 1000ms ahead of the server's time.",
      };
    if (now - ts > recvWindow)
      return { status: 400, code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.' };
    return null;
  }

  /** The order named by orderId and/or origClientOrderId (both must match when both are sent). */
  private find(q: URLSearchParams, fail: Fail, notFound: [number, string]): FakeOrder | undefined {
    const symbol = q.get('symbol');
    if (!symbol || !this.symbols.has(symbol)) {
      fail(400, -1121, 'Invalid symbol.');
      return undefined;
    }
    const id = q.get('orderId');
    const cid = q.get('origClientOrderId');
    if (!id && !cid) {
      fail(400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!");
      return undefined;
    }
    for (const o of this.orders.values()) {
      if (o.symbol !== symbol) continue;
      if (id && String(o.orderId) !== id) continue;
      if (!id && o.clientOrderId !== cid) continue;
      if (id && cid && o.clientOrderId !== cid) break;
      return o;
    }
    fail(400, ...notFound);
    return undefined;
  }

  private openOrders(symbol: string | undefined): FakeOrder[] {
    return [...this.orders.values()].filter(
      (o) => (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED') && (!symbol || o.symbol === symbol),
    );
  }

  private exchangeInfo(q: URLSearchParams, send: Send, fail: Fail): void {
    let names = [...this.symbols.keys()];
    const one = q.get('symbol');
    const many = q.get('symbols');
    if (one) names = [one];
    if (many) {
      const parsed = parseSymbols(many);
      if (!parsed) return fail(400, -1100, "Illegal characters found in parameter 'symbols'.");
      if (new Set(parsed).size !== parsed.length)
        return fail(400, -1151, 'Symbol is present multiple times in the list.');
      names = parsed;
    }
    // The docs: "If the value provided to symbol or symbols do not exist, the endpoint will throw
    // an error saying the symbol is invalid."
    if (names.some((n) => !this.symbols.has(n))) return fail(400, -1121, 'Invalid symbol.');
    send(200, {
      timezone: 'UTC',
      serverTime: this.serverTime(),
      rateLimits: [
        { rateLimitType: 'REQUEST_WEIGHT', ...this.weightWindow, limit: this.weightLimit },
        { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
        { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 200000 },
        { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61000 },
      ],
      exchangeFilters: [],
      symbols: names.map((n) => {
        const st = this.symbols.get(n)!;
        const s = st.spec;
        return {
          symbol: s.symbol,
          status: st.status,
          baseAsset: s.baseAsset,
          baseAssetPrecision: 8,
          quoteAsset: s.quoteAsset,
          quotePrecision: 8,
          quoteAssetPrecision: 8,
          baseCommissionPrecision: 8,
          quoteCommissionPrecision: 8,
          orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET'],
          icebergAllowed: false,
          ocoAllowed: false,
          otoAllowed: false,
          opoAllowed: false,
          quoteOrderQtyMarketAllowed: false,
          allowTrailingStop: false,
          cancelReplaceAllowed: false,
          amendAllowed: false,
          pegInstructionsAllowed: false,
          isSpotTradingAllowed: true,
          isMarginTradingAllowed: false,
          filters: [
            {
              filterType: 'PRICE_FILTER',
              minPrice: fromUnits(toUnits(s.tickSize)),
              maxPrice: '1000000.00000000',
              tickSize: fromUnits(toUnits(s.tickSize)),
            },
            {
              filterType: 'LOT_SIZE',
              minQty: fromUnits(toUnits(s.minQty)),
              maxQty: '9000.00000000',
              stepSize: fromUnits(toUnits(s.stepSize)),
            },
            {
              filterType: 'NOTIONAL',
              minNotional: fromUnits(toUnits(s.minNotional)),
              applyMinToMarket: true,
              maxNotional: '9000000.00000000',
              applyMaxToMarket: false,
              avgPriceMins: 5,
            },
            ...(s.extraFilters ?? []),
          ],
          permissions: [],
          permissionSets: [['SPOT']],
          defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
          allowedSelfTradePreventionModes: ['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
        };
      }),
    });
  }

  private myTrades(q: URLSearchParams, send: Send, fail: Fail): void {
    const symbol = q.get('symbol');
    if (!symbol)
      return fail(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
    if (!this.symbols.has(symbol)) return fail(400, -1121, 'Invalid symbol.');
    const orderId = q.get('orderId');
    const fromId = q.get('fromId');
    if (fromId && (q.has('startTime') || q.has('endTime')))
      return fail(400, -1128, 'Combination of optional parameters invalid.');
    const limit = Math.min(Number(q.get('limit') ?? 500), MAX_LIMIT);
    const start = Number(q.get('startTime') ?? 0);
    const end = Number(q.get('endTime') ?? Number.MAX_SAFE_INTEGER);
    const all: Array<{ o: FakeOrder; t: FakeTrade }> = [];
    for (const o of this.orders.values()) {
      if (o.symbol !== symbol || (orderId && String(o.orderId) !== orderId)) continue;
      for (const t of o.trades) if (t.time >= start && t.time <= end) all.push({ o, t });
    }
    all.sort((a, b) => a.t.id - b.t.id);
    // With fromId: trades >= fromId, oldest first; without: the most recent ones (rest-api.md).
    const page = fromId ? all.filter(({ t }) => t.id >= Number(fromId)).slice(0, limit) : all.slice(-limit);
    send(
      200,
      page.map(({ o, t }) => ({
        symbol: o.symbol,
        id: t.id,
        orderId: o.orderId,
        orderListId: -1,
        price: fromUnits(t.price),
        qty: fromUnits(t.qty),
        quoteQty: fromUnits((t.price * t.qty) / SCALE),
        commission: fromUnits(t.commission),
        commissionAsset: t.commissionAsset,
        time: t.time,
        isBuyer: t.isBuyer,
        isMaker: t.isMaker,
        isBestMatch: true,
      })),
    );
  }

  private account(omitZero: boolean) {
    const rate = this.commission?.rate ?? '0';
    const bps = Number((toUnits(rate) * 10_000n) / SCALE);
    return {
      makerCommission: bps,
      takerCommission: bps,
      buyerCommission: 0,
      sellerCommission: 0,
      commissionRates: {
        maker: fromUnits(toUnits(rate)),
        taker: fromUnits(toUnits(rate)),
        buyer: '0.00000000',
        seller: '0.00000000',
      },
      canTrade: this.canTrade,
      canWithdraw: false,
      canDeposit: false,
      brokered: false,
      requireSelfTradePrevention: false,
      preventSor: false,
      updateTime: this.serverTime(),
      accountType: 'SPOT',
      balances: [...this.balances]
        .filter(([, b]) => !omitZero || b.free > 0n || b.locked > 0n)
        .map(([asset, b]) => ({ asset, free: fromUnits(b.free), locked: fromUnits(b.locked) })),
      permissions: ['SPOT'],
      uid: 354937868,
    };
  }

  private bal(asset: string): Balance {
    let b = this.balances.get(asset);
    if (!b) this.balances.set(asset, (b = { free: 0n, locked: 0n }));
    return b;
  }

  private newOrder(q: URLSearchParams, send: Send, fail: Fail, test: boolean): void {
    const s = this.symbols.get(q.get('symbol') ?? '');
    if (!s) return fail(400, -1121, 'Invalid symbol.');
    const side = q.get('side');
    const type = q.get('type');
    if (side !== 'BUY' && side !== 'SELL') return fail(400, -1117, 'Invalid side.');
    if (type !== 'LIMIT' && type !== 'MARKET') return fail(400, -1116, 'Invalid orderType.');
    const mandatory = type === 'LIMIT' ? ['timeInForce', 'quantity', 'price'] : ['quantity'];
    for (const m of mandatory)
      if (!q.get(m))
        return fail(400, -1102, `Mandatory parameter '${m}' was not sent, was empty/null, or malformed.`);
    if (type === 'MARKET' && q.has('timeInForce'))
      return fail(400, -1106, "Parameter 'timeInForce' sent when not required.");
    const tif = type === 'LIMIT' ? q.get('timeInForce')! : 'GTC';
    if (!['GTC', 'IOC', 'FOK'].includes(tif)) return fail(400, -1115, 'Invalid timeInForce.');
    let qty: bigint;
    let price: bigint;
    try {
      qty = toUnits(q.get('quantity')!);
      price = type === 'LIMIT' ? toUnits(q.get('price')!) : 0n;
    } catch {
      return fail(400, -1111, "Parameter 'quantity' has too much precision.");
    }
    const tick = toUnits(s.spec.tickSize);
    const step = toUnits(s.spec.stepSize);
    if (type === 'LIMIT' && (price <= 0n || (tick > 0n && price % tick !== 0n)))
      return fail(400, -1013, 'Filter failure: PRICE_FILTER');
    if (qty < toUnits(s.spec.minQty) || qty <= 0n || (step > 0n && qty % step !== 0n))
      return fail(400, -1013, 'Filter failure: LOT_SIZE');
    const ref = type === 'LIMIT' ? price : side === 'BUY' ? s.ask : s.bid;
    if ((ref * qty) / SCALE < toUnits(s.spec.minNotional))
      return fail(400, -1013, 'Filter failure: NOTIONAL');
    if (s.status !== 'TRADING') return fail(400, -2010, 'Market is closed.');
    const cid = q.get('newClientOrderId') ?? `fake${this.nextOrderId}x${Date.now().toString(36)}`;
    for (const o of this.orders.values())
      if (o.clientOrderId === cid && (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED'))
        return fail(400, -2010, 'Duplicate order sent.');
    // Funds: a buy needs its quote notional, a sell its base quantity.
    const needAsset = side === 'BUY' ? s.spec.quoteAsset : s.spec.baseAsset;
    const need = side === 'BUY' ? (ref * qty) / SCALE : qty;
    if (this.bal(needAsset).free < need)
      return fail(400, -2010, 'Account has insufficient balance for requested action.');
    if (test) return send(200, {});
    const now = this.serverTime();
    const o: FakeOrder = {
      symbol: s.spec.symbol,
      orderId: this.nextOrderId++,
      clientOrderId: cid,
      side,
      type,
      timeInForce: tif,
      price,
      origQty: qty,
      executedQty: 0n,
      cummulativeQuoteQty: 0n,
      status: 'NEW',
      time: now,
      updateTime: now,
      trades: [],
      locked: 0n,
    };
    this.orders.set(o.orderId, o);
    this.userEvent(o, 'NEW');
    const touch = side === 'BUY' ? s.ask : s.bid;
    const crosses = type === 'MARKET' || (side === 'BUY' ? price >= touch : price <= touch);
    const fills: FakeTrade[] = [];
    if (crosses) {
      let q2 = qty;
      if (this.nextFillFraction !== undefined) {
        q2 =
          ((BigInt(Math.round(this.nextFillFraction * 1e6)) * qty) / 1_000_000n / (step || 1n)) *
          (step || 1n);
        this.nextFillFraction = undefined;
      }
      if (q2 > 0n) fills.push(this.fillNow(o, q2, touch, false));
    }
    if (o.status !== 'FILLED' && (type === 'MARKET' || o.timeInForce !== 'GTC')) {
      o.status = 'EXPIRED';
      this.userEvent(o, 'EXPIRED');
    }
    if (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED') this.lock(o);
    const result = {
      symbol: o.symbol,
      orderId: o.orderId,
      orderListId: -1,
      clientOrderId: o.clientOrderId,
      transactTime: now,
    };
    const respType = q.get('newOrderRespType') ?? 'FULL';
    if (respType === 'ACK') return send(200, result);
    const full = {
      ...result,
      price: fromUnits(o.price),
      origQty: fromUnits(o.origQty),
      executedQty: fromUnits(o.executedQty),
      origQuoteOrderQty: '0.00000000',
      cummulativeQuoteQty: fromUnits(o.cummulativeQuoteQty),
      status: o.status,
      timeInForce: o.timeInForce,
      type: o.type,
      side: o.side,
      workingTime: now,
      selfTradePreventionMode: 'EXPIRE_MAKER',
    };
    if (respType === 'RESULT') return send(200, full);
    send(200, {
      ...full,
      fills: fills.map((t) => ({
        price: fromUnits(t.price),
        qty: fromUnits(t.qty),
        commission: fromUnits(t.commission),
        commissionAsset: t.commissionAsset,
        tradeId: t.id,
      })),
    });
  }

  /** Holds the funds of the unfilled rest of a resting order. */
  private lock(o: FakeOrder): void {
    const s = this.sym(o.symbol).spec;
    const rest = o.origQty - o.executedQty;
    const amount = o.side === 'BUY' ? (o.price * rest) / SCALE : rest;
    const b = this.bal(o.side === 'BUY' ? s.quoteAsset : s.baseAsset);
    const add = amount - o.locked;
    b.free -= add;
    b.locked += add;
    o.locked = amount;
  }

  private unlock(o: FakeOrder): void {
    const s = this.sym(o.symbol).spec;
    const b = this.bal(o.side === 'BUY' ? s.quoteAsset : s.baseAsset);
    b.free += o.locked;
    b.locked -= o.locked;
    o.locked = 0n;
  }

  private fillNow(o: FakeOrder, qty: bigint, price: bigint, isMaker: boolean): FakeTrade {
    const s = this.sym(o.symbol).spec;
    const id = this.trade(o.symbol, price, qty, o.side === 'SELL');
    const notional = (price * qty) / SCALE;
    const c = this.commission;
    const received = o.side === 'BUY' ? s.baseAsset : s.quoteAsset;
    const commissionAsset = c?.asset ?? received;
    const rate = toUnits(c?.rate ?? '0');
    const commission = (rate * (commissionAsset === s.baseAsset ? qty : notional)) / SCALE;
    // Funds move: what was locked for this part is spent, the fee leaves the account.
    this.unlock(o);
    const quote = this.bal(s.quoteAsset);
    const base = this.bal(s.baseAsset);
    if (o.side === 'BUY') {
      quote.free -= notional;
      base.free += qty;
    } else {
      base.free -= qty;
      quote.free += notional;
    }
    this.bal(commissionAsset).free -= commission;
    const t: FakeTrade = {
      id,
      orderId: o.orderId,
      price,
      qty,
      commission,
      commissionAsset,
      time: this.serverTime(),
      isBuyer: o.side === 'BUY',
      isMaker,
    };
    o.trades.push(t);
    o.executedQty += qty;
    o.cummulativeQuoteQty += notional;
    o.status = o.executedQty === o.origQty ? 'FILLED' : 'PARTIALLY_FILLED';
    o.updateTime = t.time;
    if (o.status === 'PARTIALLY_FILLED' && o.type === 'LIMIT' && o.timeInForce === 'GTC') this.lock(o);
    this.userEvent(o, 'TRADE', t);
    return t;
  }

  /** The market trades through a resting order: fills `qty` (default: all that is left) at its price; returns the trade. */
  fill(clientOrderId: string, qty?: string): FakeTrade {
    const o = this.order(clientOrderId);
    if (!o || (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED'))
      throw new Error(`order ${clientOrderId} is not open`);
    return this.fillNow(o, qty ? toUnits(qty) : o.origQty - o.executedQty, o.price, true);
  }

  /** Cancels an open order as if done outside the engine (another client, the exchange itself). */
  cancelOutside(clientOrderId: string): void {
    const o = this.order(clientOrderId);
    if (!o) throw new Error(`no order ${clientOrderId}`);
    this.unlock(o);
    o.status = 'CANCELED';
    o.updateTime = this.serverTime();
    this.userEvent(o, 'CANCELED', undefined, `fakecancel${this.nextCancelId++}`);
  }

  /** An order changed: its executionReport and the balances it moved, on the user data stream. */
  private userEvent(o: FakeOrder, x: ExecutionType, trade?: FakeTrade, cancelClientOrderId?: string): void {
    const now = this.serverTime();
    this.wsApi.event(this.apiKey, executionReport(o, x, now, trade, cancelClientOrderId));
    const s = this.sym(o.symbol).spec;
    this.wsApi.event(
      this.apiKey,
      accountPosition(now, [
        [s.baseAsset, this.bal(s.baseAsset)],
        [s.quoteAsset, this.bal(s.quoteAsset)],
      ]),
    );
  }

  /** Announces a shutdown on every WebSocket API connection (the user data stream's). */
  wsApiShutdown(): void {
    this.wsApi.serverShutdown();
  }

  /** Cancels an order; the answer names it by origClientOrderId and the cancel by a new clientOrderId. */
  private cancelReport(o: FakeOrder, newClientOrderId: string | null) {
    this.unlock(o);
    o.status = 'CANCELED';
    o.updateTime = this.serverTime();
    const clientOrderId = newClientOrderId ?? `fakecancel${this.nextCancelId++}`;
    this.userEvent(o, 'CANCELED', undefined, clientOrderId);
    return {
      symbol: o.symbol,
      origClientOrderId: o.clientOrderId,
      orderId: o.orderId,
      orderListId: -1,
      clientOrderId,
      transactTime: o.updateTime,
      price: fromUnits(o.price),
      origQty: fromUnits(o.origQty),
      executedQty: fromUnits(o.executedQty),
      origQuoteOrderQty: '0.00000000',
      cummulativeQuoteQty: fromUnits(o.cummulativeQuoteQty),
      status: o.status,
      timeInForce: o.timeInForce,
      type: o.type,
      side: o.side,
      selfTradePreventionMode: 'EXPIRE_MAKER',
    };
  }

  view(o: FakeOrder) {
    return {
      symbol: o.symbol,
      orderId: o.orderId,
      orderListId: -1,
      clientOrderId: o.clientOrderId,
      price: fromUnits(o.price),
      origQty: fromUnits(o.origQty),
      executedQty: fromUnits(o.executedQty),
      cummulativeQuoteQty: fromUnits(o.cummulativeQuoteQty),
      status: o.status,
      timeInForce: o.timeInForce,
      type: o.type,
      side: o.side,
      stopPrice: '0.00000000',
      icebergQty: '0.00000000',
      time: o.time,
      updateTime: o.updateTime,
      isWorking: true,
      workingTime: o.time,
      origQuoteOrderQty: '0.00000000',
      selfTradePreventionMode: 'EXPIRE_MAKER',
    };
  }
}

/** `["A","B"]` (the docs' format for `symbols`), or undefined when it is not that. */
function parseSymbols(raw: string): string[] | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
  } catch {
    return undefined;
  }
}
