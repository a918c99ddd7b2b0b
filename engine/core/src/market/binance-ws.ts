// Binance market data over WebSocket: one combined stream (<symbol>@trade and <symbol>@bookTicker
// for every configured symbol). Reconnects after VELOZ_WS_RECONNECT_DELAY plus jitter, which
// subscribes to the same streams again; a jump in trade ids is reported as a gap, never smoothed
// over. The client pings too, so a connection that silently died is noticed and replaced.
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import WebSocket from 'ws';
import type { Instrument } from '../domain/instrument.ts';
import { exchangeUnits } from '../exchange/filters.ts';
import type { ExchangeMetrics } from '../exchange/metrics.ts';
import type { FeedSink, MarketFeed } from '../exchange/venue.ts';
import type { Quote } from './book.ts';

/** wss://host/ws or wss://host/stream or wss://host -> wss://host/stream?streams=a/b/c */
export function combinedStreamUrl(base: string, streams: string[]): string {
  const u = new URL(base);
  u.pathname = u.pathname.replace(/\/+$/, '').replace(/\/(ws|stream)$/, '') + '/stream';
  // The separator must stay a literal "/": Binance splits the parameter on it.
  return `${u.origin}${u.pathname}?streams=${streams.join('/')}`;
}

export interface TopOfBook {
  bid: number;
  bidQty: number;
  ask: number;
  askQty: number;
  updateId: number;
}

/** Tracks trade ids per symbol; returns how many trades were skipped before `id` (0 when none). */
export class TradeSequence {
  private readonly last = new Map<string, number>();

  /** -1 for a trade already seen (replayed or out of order). */
  next(symbol: string, id: number): number {
    const prev = this.last.get(symbol);
    if (prev !== undefined && id <= prev) return -1;
    this.last.set(symbol, id);
    return prev === undefined ? 0 : id - prev - 1;
  }

  lastId(symbol: string): number | undefined {
    return this.last.get(symbol);
  }
}

export interface BinanceWsFeedOptions {
  baseUrl: string;
  instruments: Instrument[];
  reconnectDelayMs: number;
  /** Client ping interval; a missing pong by the next ping ends the connection. */
  pingIntervalMs?: number;
  sink: FeedSink;
  log: Logger;
  metrics: ExchangeMetrics;
  disconnects: Counter;
}

interface TradeMsg {
  s: string;
  t: number;
  p: string;
  q: string;
  T: number;
  m: boolean;
}

interface BookTickerMsg {
  u: number;
  s: string;
  b: string;
  B: string;
  a: string;
  A: string;
}

export class BinanceWsFeed implements MarketFeed {
  private readonly o: BinanceWsFeedOptions;
  private readonly instruments: Map<string, Instrument>;
  private readonly books = new Map<string, TopOfBook>();
  readonly trades = new TradeSequence();
  private ws: WebSocket | undefined;
  private connected = false;
  private everConnected = false;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private alive = true;
  private seq = 0;
  private disconnectedAt = 0;
  private readonly url: string;

  constructor(opts: BinanceWsFeedOptions) {
    this.o = opts;
    this.instruments = new Map(opts.instruments.map((i) => [i.symbol, i]));
    const streams = opts.instruments.flatMap((i) => {
      const s = i.symbol.toLowerCase();
      return [`${s}@trade`, `${s}@bookTicker`];
    });
    this.url = combinedStreamUrl(opts.baseUrl, streams);
  }

  start(): void {
    this.connect();
  }

  readiness(): string[] {
    return this.connected ? [] : ['market data stream disconnected (reconnecting)'];
  }

  private connect(): void {
    if (this.closed) return;
    const ws = new WebSocket(this.url, { handshakeTimeout: 10_000, perMessageDeflate: false });
    this.ws = ws;
    ws.on('open', () => {
      this.connected = true;
      this.alive = true;
      this.o.metrics.wsConnected.set(1);
      this.o.log.info({ streams: this.instruments.size * 2 }, 'market data stream connected');
      if (this.everConnected)
        this.o.sink.event('system', {
          marketData: 'reconnected',
          downMs: Date.now() - this.disconnectedAt,
        });
      this.everConnected = true;
      const every = this.o.pingIntervalMs ?? 30_000;
      this.heartbeat = setInterval(() => {
        if (!this.alive) {
          this.o.log.warn('market data stream missed a pong; reconnecting');
          ws.terminate();
          return;
        }
        this.alive = false;
        ws.ping();
      }, every);
      this.heartbeat.unref();
    });
    ws.on('message', (data: WebSocket.RawData) => {
      this.alive = true;
      this.onMessage(data);
    });
    // ws answers the server's pings itself; any frame proves the connection is alive.
    ws.on('ping', () => (this.alive = true));
    ws.on('pong', () => (this.alive = true));
    ws.on('error', (err) => this.o.log.warn({ err: err.message }, 'market data stream error'));
    ws.on('close', () => this.onClose(ws));
  }

  private onClose(ws: WebSocket): void {
    if (ws !== this.ws) return;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    if (this.connected) {
      this.o.disconnects.inc();
      this.disconnectedAt = Date.now();
      this.o.sink.event('system', { marketData: 'disconnected' });
      this.o.log.warn('market data stream disconnected');
    }
    this.connected = false;
    this.o.metrics.wsConnected.set(0);
    if (this.closed) return;
    const delay = Math.round(this.o.reconnectDelayMs * (1 + Math.random() * 0.2));
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
    this.reconnectTimer.unref();
  }

  private onMessage(raw: WebSocket.RawData): void {
    let msg: { stream?: string; data?: unknown; result?: unknown };
    try {
      const text = Buffer.isBuffer(raw)
        ? raw.toString('utf8')
        : Array.isArray(raw)
          ? Buffer.concat(raw).toString('utf8')
          : Buffer.from(raw).toString('utf8');
      msg = JSON.parse(text) as typeof msg;
    } catch {
      this.o.log.warn('market data stream sent invalid JSON');
      return;
    }
    if (!msg.stream || typeof msg.data !== 'object' || msg.data === null) return;
    try {
      if (msg.stream.endsWith('@trade')) this.onTrade(msg.data as TradeMsg);
      else if (msg.stream.endsWith('@bookTicker')) this.onBook(msg.data as BookTickerMsg);
    } catch (err) {
      this.o.log.warn({ err, stream: msg.stream }, 'market data message not understood');
    }
  }

  private onTrade(t: TradeMsg): void {
    const inst = this.instruments.get(t.s);
    if (!inst) return;
    const missed = this.trades.next(t.s, t.t);
    if (missed < 0) return;
    if (missed > 0) this.gap(t.s, t.t - missed - 1, t.t, missed);
    const book = this.books.get(t.s);
    if (!book) return;
    this.emit(
      t.s,
      book,
      [
        {
          price: exchangeUnits(t.p, inst.priceDecimals),
          qty: exchangeUnits(t.q, inst.qtyDecimals),
          // m: the buyer was the maker, so the seller hit the bid.
          side: t.m ? 'SELL' : 'BUY',
        },
      ],
      t.T,
    );
  }

  private onBook(b: BookTickerMsg): void {
    const inst = this.instruments.get(b.s);
    if (!inst) return;
    const prev = this.books.get(b.s);
    if (prev && b.u < prev.updateId) return;
    const book: TopOfBook = {
      bid: exchangeUnits(b.b, inst.priceDecimals),
      bidQty: exchangeUnits(b.B, inst.qtyDecimals),
      ask: exchangeUnits(b.a, inst.priceDecimals),
      askQty: exchangeUnits(b.A, inst.qtyDecimals),
      updateId: b.u,
    };
    this.books.set(b.s, book);
    this.emit(b.s, book, [], Date.now());
  }

  private gap(symbol: string, afterTradeId: number, nextTradeId: number, missed: number): void {
    this.o.metrics.gaps.inc({ symbol });
    this.o.metrics.missedTrades.inc({ symbol }, missed);
    this.o.log.warn({ symbol, afterTradeId, nextTradeId, missed }, 'gap in market data: trades were missed');
    this.o.sink.event('system', {
      marketDataGap: { symbol, afterTradeId, nextTradeId, missedTrades: missed },
    });
  }

  private emit(symbol: string, b: TopOfBook, trades: Quote['trades'], time: number): void {
    this.o.sink.quote({
      symbol,
      bids: b.bid > 0 ? [{ price: b.bid, qty: b.bidQty }] : [],
      asks: b.ask > 0 ? [{ price: b.ask, qty: b.askQty }] : [],
      trades,
      seq: ++this.seq,
      time,
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    const ws = this.ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      ws.terminate();
      await closed;
    }
  }
}
