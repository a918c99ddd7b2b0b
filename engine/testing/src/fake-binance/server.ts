// A local fake of the Binance Spot API for tests: REST (signed endpoints verified exactly like
// Binance: X-MBX-APIKEY, HMAC-SHA256 signature, timestamp within recvWindow) and WebSocket
// market streams (combined /stream?streams=... and raw /ws/<stream>), on 127.0.0.1 only.
// Tests tell it to fail: 429/418 with Retry-After, -1021 via a skewed clock, 5XX before or after
// executing, answers that never come, dropped WebSocket connections, gaps in trade ids, and
// orders that fill partially. Its own order book-keeping is the exchange's "true state".
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { hmacSha256Hex } from '@veloz/engine/exchange/signing';

const SCALE = 100_000_000n;

/** "50000.01" -> 5000001000000n (units of 1e-8, Binance's precision). */
export function toUnits(text: string): bigint {
  const m = /^(\d+)(?:\.(\d{0,8}))?$/.exec(text);
  if (!m) throw new Error(`bad decimal ${text}`);
  return BigInt(m[1]!) * SCALE + BigInt((m[2] ?? '').padEnd(8, '0'));
}

export function fromUnits(v: bigint): string {
  return `${v / SCALE}.${(v % SCALE).toString().padStart(8, '0')}`;
}

export interface FakeSymbolSpec {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  tickSize: string;
  stepSize: string;
  minQty: string;
  minNotional: string;
  bid: string;
  ask: string;
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

export type Failure =
  /** An error answer; the request is not executed (429, 418, -1003, ...). */
  | { kind: 'error'; status: number; code: number; msg: string; retryAfter?: number }
  /** A 5XX, after executing the request or not. */
  | { kind: 'server_error'; status?: number; execute: boolean }
  /** No answer at all until the client gives up, after executing the request or not. */
  | { kind: 'timeout'; execute: boolean };

interface FailRule {
  method: string | undefined;
  path: string;
  failure: Failure;
  times: number;
}

export interface FakeTrade {
  id: number;
  orderId: number;
  price: bigint;
  qty: bigint;
  time: number;
  isBuyer: boolean;
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
}

interface SymbolState {
  spec: FakeSymbolSpec;
  bid: bigint;
  ask: bigint;
  bidQty: bigint;
  askQty: bigint;
  nextTradeId: number;
  updateId: number;
  publicTrades: Array<{ id: number; price: bigint; qty: bigint; time: number; isBuyerMaker: boolean }>;
}

interface Sub {
  ws: WebSocket;
  combined: boolean;
  streams: Set<string>;
}

export interface FakeBinanceOptions {
  apiKey: string;
  apiSecret: string;
  symbols?: FakeSymbolSpec[];
  /** Server-initiated WebSocket pings (Binance sends one every 20 s). */
  pingIntervalMs?: number;
  /** Republish every book ticker this often, like a live market (0: only on setBook). */
  bookTickerIntervalMs?: number;
}

export class FakeBinance {
  readonly apiKey: string;
  private readonly apiSecret: string;
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly symbols = new Map<string, SymbolState>();
  readonly orders = new Map<number, FakeOrder>();
  private nextOrderId = 1000;
  private rules: FailRule[] = [];
  private readonly held = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private readonly subs = new Set<Sub>();
  private pinger: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  /** Added to the exchange clock: a large value makes clients' timestamps fall outside recvWindow. */
  clockSkewMs = 0;
  /** The next order that crosses the book fills only this fraction of its quantity at once. */
  nextFillFraction: number | undefined;
  /** When true, WebSocket upgrades are refused (the stream endpoint is "down"). */
  refuseStreams = false;
  /** Every REST request: method, path and HTTP status of the answer. */
  readonly log: Array<{ method: string; path: string; status: number }> = [];
  pongs = 0;
  wsConnections = 0;
  url = '';
  wsUrl = '';

  constructor(opts: FakeBinanceOptions) {
    this.apiKey = opts.apiKey;
    this.apiSecret = opts.apiSecret;
    for (const s of opts.symbols ?? [BTCUSDT]) {
      this.symbols.set(s.symbol, {
        spec: s,
        bid: toUnits(s.bid),
        ask: toUnits(s.ask),
        bidQty: toUnits('1.5'),
        askQty: toUnits('2.5'),
        nextTradeId: 1,
        updateId: 1,
        publicTrades: [],
      });
    }
    this.server = createServer((req, res) => this.handle(req, res));
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
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onWs(ws, req));
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
    if (opts.pingIntervalMs) {
      this.pinger = setInterval(() => {
        for (const s of this.subs) s.ws.ping();
      }, opts.pingIntervalMs);
    }
  }

  static async start(opts: FakeBinanceOptions): Promise<FakeBinance> {
    const f = new FakeBinance(opts);
    f.server.listen(0, '127.0.0.1');
    await once(f.server, 'listening');
    const port = (f.server.address() as AddressInfo).port;
    f.url = `http://127.0.0.1:${port}`;
    f.wsUrl = `ws://127.0.0.1:${port}/ws`;
    return f;
  }

  async close(): Promise<void> {
    if (this.pinger) clearInterval(this.pinger);
    if (this.ticker) clearInterval(this.ticker);
    for (const s of this.subs) s.ws.terminate();
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
    this.broadcast(`${symbol.toLowerCase()}@bookTicker`, {
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
    this.broadcast(`${symbol.toLowerCase()}@trade`, {
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
    for (const s of this.subs) s.ws.terminate();
  }

  get streamClients(): number {
    return this.subs.size;
  }

  private onWs(ws: WebSocket, req: IncomingMessage): void {
    this.wsConnections += 1;
    const u = new URL(req.url ?? '/', 'http://x');
    const combined = u.pathname.startsWith('/stream');
    const streams = new Set<string>();
    if (combined) {
      for (const s of (u.searchParams.get('streams') ?? '').split('/')) if (s) streams.add(s);
    } else if (u.pathname.startsWith('/ws/')) {
      streams.add(u.pathname.slice(4));
    }
    const sub: Sub = { ws, combined, streams };
    this.subs.add(sub);
    ws.on('pong', () => (this.pongs += 1));
    ws.on('close', () => this.subs.delete(sub));
    ws.on('error', () => this.subs.delete(sub));
    ws.on('message', (raw: Buffer) => {
      let msg: { method?: string; params?: string[]; id?: number };
      try {
        msg = JSON.parse(raw.toString()) as typeof msg;
      } catch {
        ws.send(JSON.stringify({ error: { code: 3, msg: 'Invalid JSON' } }));
        return;
      }
      if (msg.method === 'SUBSCRIBE') for (const p of msg.params ?? []) streams.add(p);
      else if (msg.method === 'UNSUBSCRIBE') for (const p of msg.params ?? []) streams.delete(p);
      ws.send(JSON.stringify({ result: null, id: msg.id ?? null }));
    });
  }

  private broadcast(stream: string, data: unknown): void {
    for (const s of this.subs) {
      if (!s.streams.has(stream)) continue;
      s.ws.send(JSON.stringify(s.combined ? { stream, data } : data));
    }
  }

  // ---- REST ----

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const path = u.pathname;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      this.log.push({ method, path, status });
      const recent = this.log.length;
      res.writeHead(status, {
        'content-type': 'application/json',
        'x-mbx-used-weight-1m': String(recent),
        ...headers,
      });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, code: number, msg: string) => send(status, { code, msg });
    const rule = this.rules.find((r) => r.path === path && (!r.method || r.method === method));
    if (rule) {
      rule.times -= 1;
      if (rule.times <= 0) this.rules = this.rules.filter((r) => r !== rule);
      const f = rule.failure;
      if (f.kind === 'error') {
        send(
          f.status,
          { code: f.code, msg: f.msg },
          f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {},
        );
        return;
      }
      if (f.execute) {
        // Execute for real, then lose the answer.
        const sink = { status: 0 };
        this.route(method, path, u.searchParams, req, (status) => (sink.status = status));
      }
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
    this.route(method, path, u.searchParams, req, send, error);
  }

  private route(
    method: string,
    path: string,
    q: URLSearchParams,
    req: IncomingMessage,
    send: (status: number, body: unknown, headers?: Record<string, string>) => void,
    error: (status: number, code: number, msg: string) => void = (s, code, msg) => send(s, { code, msg }),
  ): void {
    const key = `${method} ${path}`;
    switch (key) {
      case 'GET /api/v3/ping':
        return send(200, {});
      case 'GET /api/v3/time':
        return send(200, { serverTime: this.serverTime() });
      case 'GET /api/v3/exchangeInfo':
        return send(200, this.exchangeInfo(q));
      case 'GET /api/v3/depth': {
        const s = this.symbols.get(q.get('symbol') ?? '');
        if (!s) return error(400, -1121, 'Invalid symbol.');
        const tick = toUnits(s.spec.tickSize);
        const levels = Math.min(Number(q.get('limit') ?? 5), 5);
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
        if (!s) return error(400, -1121, 'Invalid symbol.');
        const limit = Number(q.get('limit') ?? 500);
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
      case 'GET /api/v3/ticker/bookTicker': {
        const s = this.symbols.get(q.get('symbol') ?? '');
        if (!s) return error(400, -1121, 'Invalid symbol.');
        return send(200, {
          symbol: s.spec.symbol,
          bidPrice: fromUnits(s.bid),
          bidQty: fromUnits(s.bidQty),
          askPrice: fromUnits(s.ask),
          askQty: fromUnits(s.askQty),
        });
      }
    }
    const signedPaths = ['/api/v3/order', '/api/v3/openOrders', '/api/v3/myTrades'];
    if (!signedPaths.includes(path)) return error(404, -1000, `unknown endpoint ${key}`);
    const authError = this.verify(req, q);
    if (authError) return error(authError.status, authError.code, authError.msg);
    switch (key) {
      case 'POST /api/v3/order':
        return this.newOrder(q, send, error);
      case 'GET /api/v3/order': {
        const o = this.find(q);
        if (!o) return error(400, -2013, 'Order does not exist.');
        return send(200, this.view(o));
      }
      case 'DELETE /api/v3/order': {
        const o = this.find(q);
        if (!o || (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED'))
          return error(400, -2011, 'Unknown order sent.');
        o.status = 'CANCELED';
        o.updateTime = this.serverTime();
        return send(200, { ...this.view(o), origClientOrderId: o.clientOrderId });
      }
      case 'GET /api/v3/openOrders': {
        const symbol = q.get('symbol');
        return send(
          200,
          [...this.orders.values()]
            .filter(
              (o) =>
                (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED') && (!symbol || o.symbol === symbol),
            )
            .map((o) => this.view(o)),
        );
      }
      case 'GET /api/v3/myTrades': {
        const symbol = q.get('symbol');
        const orderId = q.get('orderId');
        const out = [];
        for (const o of this.orders.values()) {
          if (o.symbol !== symbol || (orderId && String(o.orderId) !== orderId)) continue;
          for (const t of o.trades)
            out.push({
              symbol: o.symbol,
              id: t.id,
              orderId: o.orderId,
              orderListId: -1,
              price: fromUnits(t.price),
              qty: fromUnits(t.qty),
              quoteQty: fromUnits((t.price * t.qty) / SCALE),
              commission: '0.00000000',
              commissionAsset: o.side === 'BUY' ? this.sym(o.symbol).spec.baseAsset : 'USDT',
              time: t.time,
              isBuyer: t.isBuyer,
              isMaker: false,
              isBestMatch: true,
            });
        }
        out.sort((a, b) => a.id - b.id);
        return send(200, out);
      }
    }
    return error(404, -1000, `unknown endpoint ${key}`);
  }

  private verify(
    req: IncomingMessage,
    q: URLSearchParams,
  ): { status: number; code: number; msg: string } | null {
    if (req.headers['x-mbx-apikey'] !== this.apiKey)
      return { status: 401, code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' };
    const raw = (req.url ?? '').split('?')[1] ?? '';
    const at = raw.lastIndexOf('&signature=');
    if (at < 0) return { status: 400, code: -1102, msg: "Mandatory parameter 'signature' was not sent." };
    if (
      hmacSha256Hex(raw.slice(0, at), this.apiSecret) !== raw.slice(at + '&signature='.length).toLowerCase()
    )
      return { status: 400, code: -1022, msg: 'Signature for this request is not valid.' };
    const ts = Number(q.get('timestamp'));
    const recvWindow = Number(q.get('recvWindow') ?? 5000);
    const now = this.serverTime();
    if (!(ts < now + 1000 && now - ts <= recvWindow))
      return { status: 400, code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.' };
    return null;
  }

  private find(q: URLSearchParams): FakeOrder | undefined {
    const id = q.get('orderId');
    const cid = q.get('origClientOrderId');
    const symbol = q.get('symbol');
    for (const o of this.orders.values()) {
      if (o.symbol !== symbol) continue;
      if ((id && String(o.orderId) === id) || (cid && o.clientOrderId === cid)) return o;
    }
    return undefined;
  }

  private exchangeInfo(q: URLSearchParams) {
    let names = [...this.symbols.keys()];
    const one = q.get('symbol');
    const many = q.get('symbols');
    if (one) names = [one];
    if (many) names = JSON.parse(many) as string[];
    return {
      timezone: 'UTC',
      serverTime: this.serverTime(),
      rateLimits: [],
      symbols: names
        .filter((n) => this.symbols.has(n))
        .map((n) => {
          const s = this.symbols.get(n)!.spec;
          return {
            symbol: s.symbol,
            status: 'TRADING',
            baseAsset: s.baseAsset,
            baseAssetPrecision: 8,
            quoteAsset: s.quoteAsset,
            quoteAssetPrecision: 8,
            orderTypes: ['LIMIT', 'MARKET'],
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
            ],
          };
        }),
    };
  }

  private newOrder(
    q: URLSearchParams,
    send: (status: number, body: unknown) => void,
    error: (status: number, code: number, msg: string) => void,
  ): void {
    const s = this.symbols.get(q.get('symbol') ?? '');
    if (!s) return error(400, -1121, 'Invalid symbol.');
    const side = q.get('side');
    const type = q.get('type');
    if ((side !== 'BUY' && side !== 'SELL') || (type !== 'LIMIT' && type !== 'MARKET'))
      return error(400, -1102, 'Mandatory parameter was not sent, was empty/null, or malformed.');
    const cid = q.get('newClientOrderId') ?? `fake-${this.nextOrderId}`;
    for (const o of this.orders.values())
      if (o.clientOrderId === cid && (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED'))
        return error(400, -2010, 'Duplicate order sent.');
    const qty = toUnits(q.get('quantity') ?? '0');
    const price = type === 'LIMIT' ? toUnits(q.get('price') ?? '0') : 0n;
    if (type === 'LIMIT' && (price <= 0n || price % toUnits(s.spec.tickSize) !== 0n))
      return error(400, -1013, 'Filter failure: PRICE_FILTER');
    if (qty < toUnits(s.spec.minQty) || qty % toUnits(s.spec.stepSize) !== 0n)
      return error(400, -1013, 'Filter failure: LOT_SIZE');
    const ref = type === 'LIMIT' ? price : side === 'BUY' ? s.ask : s.bid;
    if ((ref * qty) / SCALE < toUnits(s.spec.minNotional))
      return error(400, -1013, 'Filter failure: NOTIONAL');
    const now = this.serverTime();
    const o: FakeOrder = {
      symbol: s.spec.symbol,
      orderId: this.nextOrderId++,
      clientOrderId: cid,
      side,
      type,
      timeInForce: type === 'MARKET' ? 'GTC' : (q.get('timeInForce') ?? 'GTC'),
      price,
      origQty: qty,
      executedQty: 0n,
      cummulativeQuoteQty: 0n,
      status: 'NEW',
      time: now,
      updateTime: now,
      trades: [],
    };
    this.orders.set(o.orderId, o);
    const touch = side === 'BUY' ? s.ask : s.bid;
    const crosses = type === 'MARKET' || (side === 'BUY' ? price >= touch : price <= touch);
    const fills: Array<{
      price: string;
      qty: string;
      commission: string;
      commissionAsset: string;
      tradeId: number;
    }> = [];
    if (crosses) {
      let q2 = qty;
      if (this.nextFillFraction !== undefined) {
        const step = toUnits(s.spec.stepSize);
        q2 = ((BigInt(Math.round(this.nextFillFraction * 1e6)) * qty) / 1_000_000n / step) * step;
        this.nextFillFraction = undefined;
      }
      if (q2 > 0n) {
        const t = this.fillNow(o, q2, touch);
        fills.push({
          price: fromUnits(t.price),
          qty: fromUnits(t.qty),
          commission: '0.00000000',
          commissionAsset: 'BNB',
          tradeId: t.id,
        });
      }
    }
    if (o.status !== 'FILLED' && (type === 'MARKET' || o.timeInForce === 'IOC')) o.status = 'EXPIRED';
    send(200, { ...this.view(o), transactTime: now, fills });
  }

  private fillNow(o: FakeOrder, qty: bigint, price: bigint): FakeTrade {
    const id = this.trade(o.symbol, price, qty, o.side === 'SELL');
    const t: FakeTrade = {
      id,
      orderId: o.orderId,
      price,
      qty,
      time: this.serverTime(),
      isBuyer: o.side === 'BUY',
    };
    o.trades.push(t);
    o.executedQty += qty;
    o.cummulativeQuoteQty += (price * qty) / SCALE;
    o.status = o.executedQty === o.origQty ? 'FILLED' : 'PARTIALLY_FILLED';
    o.updateTime = t.time;
    return t;
  }

  /** The market trades through a resting order: fills `qty` (default: all that is left) at its price. */
  fill(clientOrderId: string, qty?: string): void {
    const o = this.order(clientOrderId);
    if (!o || (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED'))
      throw new Error(`order ${clientOrderId} is not open`);
    this.fillNow(o, qty ? toUnits(qty) : o.origQty - o.executedQty, o.price);
  }

  /** Cancels an open order as if done outside the engine (another client, the exchange itself). */
  cancelOutside(clientOrderId: string): void {
    const o = this.order(clientOrderId);
    if (!o) throw new Error(`no order ${clientOrderId}`);
    o.status = 'CANCELED';
    o.updateTime = this.serverTime();
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
