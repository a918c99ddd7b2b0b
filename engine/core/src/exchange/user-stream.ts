// The account's user data stream, as the Binance docs describe it today (user-data-stream.md,
// web-socket-api.md): a WebSocket API connection subscribed with `userDataStream.subscribe.signature`
// (any key type, so the engine's HMAC key works; listen keys were retired on 2026-02-20). Every
// `executionReport` goes to the venue the same way a REST answer does.
//
// A connection lives at most 24 hours and the server announces a shutdown with `serverShutdown`.
// Either way the stream is replaced *before* the old connection goes: a second connection is
// opened and subscribed, and only then is the old one closed, so no event falls between two
// connections and readiness never depends on it. During the overlap both deliver; events are
// de-duplicated by their execution id. An unplanned loss is followed by a reconnect and one REST
// poll for what the gap may have hidden.
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import WebSocket from 'ws';
import type { BinanceOrder, BinanceOrderStatus } from './binance-types.ts';
import type { TradeReport } from './binance-venue.ts';
import { hmacSha256Hex } from './signing.ts';

/** One order change from the stream, in the shapes the venue applies. */
export interface StreamReport {
  order: BinanceOrder;
  /** The trade this event reports (execution type TRADE). */
  trades?: TradeReport[];
  /** Executed quantity before `trades` (z - l): the trades given continue from there. */
  priorQty?: string;
  executionId: number;
}

const STATUSES: readonly string[] = [
  'NEW',
  'PENDING_NEW',
  'PARTIALLY_FILLED',
  'FILLED',
  'CANCELED',
  'PENDING_CANCEL',
  'REJECTED',
  'EXPIRED',
  'EXPIRED_IN_MATCH',
];

const DECIMAL = /^\d+(\.\d+)?$/;

/** The payload of an `executionReport`, or undefined when it does not have the fields we read. */
export function fromExecutionReport(e: Record<string, unknown>): StreamReport | undefined {
  const str = (k: string) => (typeof e[k] === 'string' ? e[k] : undefined);
  const num = (k: string) => (typeof e[k] === 'number' && Number.isInteger(e[k]) ? e[k] : undefined);
  const dec = (k: string) => {
    const v = str(k);
    return v !== undefined && DECIMAL.test(v) ? v : undefined;
  };
  const symbol = str('s');
  const c = str('c');
  const orig = str('C');
  const side = str('S');
  const status = str('X');
  const x = str('x');
  const orderId = num('i');
  const executionId = num('I');
  const [q, z, p, Z, l, L] = ['q', 'z', 'p', 'Z', 'l', 'L'].map(dec);
  if (
    !symbol ||
    c === undefined ||
    (side !== 'BUY' && side !== 'SELL') ||
    !status ||
    !STATUSES.includes(status) ||
    !x ||
    orderId === undefined ||
    executionId === undefined ||
    !q ||
    !z ||
    !p
  )
    return undefined;
  const order: BinanceOrder = {
    symbol,
    orderId,
    // A cancel's event carries the cancel request's own id in c and the order's in C.
    clientOrderId: orig ? orig : c,
    price: p,
    origQty: q,
    executedQty: z,
    cummulativeQuoteQty: Z ?? '0',
    status: status as BinanceOrderStatus,
    timeInForce: str('f') ?? '',
    type: str('o') ?? '',
    side,
  };
  const tradeId = num('t');
  if (x !== 'TRADE' || tradeId === undefined || tradeId < 0 || !l || !L) return { order, executionId };
  const n = dec('n');
  const N = str('N');
  return {
    order,
    executionId,
    trades: [{ id: tradeId, price: L, qty: l, commission: n, commissionAsset: N }],
    priorQty: minus(z, l),
  };
}

/** a - b for non-negative decimals, exactly (both from the same event, so b <= a). */
function minus(a: string, b: string): string {
  const scale = Math.max(a.split('.')[1]?.length ?? 0, b.split('.')[1]?.length ?? 0);
  const big = (v: string) => BigInt((v.split('.')[0] ?? '0') + (v.split('.')[1] ?? '').padEnd(scale, '0'));
  const d = big(a) - big(b);
  if (d < 0n) return '0';
  const s = d.toString().padStart(scale + 1, '0');
  return scale ? `${s.slice(0, -scale)}.${s.slice(-scale)}` : s;
}

/** The HMAC signature payload of the WebSocket API: every param but `signature`, sorted by name. */
export function wsApiSignaturePayload(params: Record<string, string | number>): string {
  return Object.keys(params)
    .filter((k) => k !== 'signature')
    .sort()
    .map((k) => `${k}=${String(params[k])}`)
    .join('&');
}

export interface UserStreamOptions {
  url: string;
  apiKey: string;
  apiSecret: string;
  /** The exchange's clock (signed timestamps) and the recvWindow to sign with. */
  clock: { serverNow(): number; readonly recvWindow: number };
  log: Logger;
  /** Age at which a connection is replaced (Binance ends it at 24 hours). */
  maxAgeMs: number;
  reconnectDelayMs: number;
  /** Client pings; a connection that has not answered by the next one is replaced. */
  pingIntervalMs?: number;
  onReport(r: StreamReport): void;
  /** A subscription is up again after a time without one: events may have been missed. */
  onResumed(): void;
  registry: Registry;
}

interface Conn {
  ws: WebSocket;
  subscribed: boolean;
  requestId: string;
  alive: boolean;
  timers: NodeJS.Timeout[];
}

const DEDUPE = 2048;

function createStreamMetrics(registry: Registry) {
  const registers = [registry];
  return {
    connected: new Gauge({
      name: 'veloz_exchange_user_stream_connected',
      help: '1 while the user data stream is subscribed (fills by stream; polling is the fallback)',
      registers,
    }),
    events: new Counter({
      name: 'veloz_exchange_user_stream_events_total',
      help: 'User data stream events received, by event type',
      labelNames: ['type'],
      registers,
    }),
    reconnects: new Counter({
      name: 'veloz_exchange_user_stream_reconnects_total',
      help: 'User data stream connections replaced, by reason (server_shutdown, max_age, lost, unanswered)',
      labelNames: ['reason'],
      registers,
    }),
  };
}

export class BinanceUserStream {
  private readonly o: UserStreamOptions;
  private readonly m: ReturnType<typeof createStreamMetrics>;
  /** The subscribed connection events come from. */
  private current: Conn | undefined;
  /** A replacement being opened and subscribed. */
  private next: Conn | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  private seq = 0;
  private readonly seen = new Set<number>();
  private readonly seenOrder: number[] = [];
  private hadStream = false;
  /** Attempts since the last subscription: each waits twice as long, up to a minute. */
  private failures = 0;

  constructor(opts: UserStreamOptions) {
    this.o = opts;
    this.m = createStreamMetrics(opts.registry);
  }

  /** True while a subscription delivers events. */
  get live(): boolean {
    return this.current?.subscribed ?? false;
  }

  start(): void {
    this.next = this.open();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const all = [this.current, this.next].filter((c): c is Conn => c !== undefined);
    this.current = this.next = undefined;
    this.m.connected.set(0);
    await Promise.all(all.map((c) => this.end(c)));
  }

  /** Opens a replacement; the current connection stays until the replacement is subscribed. */
  private rotate(reason: string): void {
    if (this.closed || this.next) return;
    this.m.reconnects.inc({ reason });
    this.o.log.info({ reason }, 'replacing the user data stream connection');
    this.next = this.open();
  }

  private open(): Conn {
    const ws = new WebSocket(this.o.url);
    const c: Conn = { ws, subscribed: false, requestId: `sub${++this.seq}`, alive: true, timers: [] };
    ws.on('open', () => this.subscribe(c));
    ws.on('message', (raw: Buffer) => this.message(c, raw.toString()));
    ws.on('pong', () => (c.alive = true));
    ws.on('error', (err) => this.o.log.warn({ err: err.message }, 'user data stream connection error'));
    ws.on('close', () => this.lost(c));
    const ping = this.o.pingIntervalMs ?? 20_000;
    const pinger = setInterval(() => {
      if (!c.alive) {
        ws.terminate();
        return;
      }
      c.alive = false;
      if (ws.readyState === WebSocket.OPEN) ws.ping();
    }, ping);
    pinger.unref();
    c.timers.push(pinger);
    return c;
  }

  private subscribe(c: Conn): void {
    const params: Record<string, string | number> = {
      apiKey: this.o.apiKey,
      recvWindow: this.o.clock.recvWindow,
      timestamp: this.o.clock.serverNow(),
    };
    const signature = hmacSha256Hex(wsApiSignaturePayload(params), this.o.apiSecret);
    c.ws.send(
      JSON.stringify({
        id: c.requestId,
        method: 'userDataStream.subscribe.signature',
        params: { ...params, signature },
      }),
    );
  }

  private message(c: Conn, text: string): void {
    let msg: { id?: unknown; status?: unknown; error?: { code?: unknown; msg?: unknown }; event?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    if (msg.id === c.requestId) {
      if (msg.status === 200) this.subscribed(c);
      else {
        this.o.log.warn(
          { status: msg.status, code: msg.error?.code, msg: msg.error?.msg },
          'user data stream subscription refused; polling meanwhile',
        );
        // Closing it the usual way schedules the next attempt (lost()).
        c.ws.close(1000);
      }
      return;
    }
    const e = msg.event;
    if (typeof e !== 'object' || e === null) return;
    const ev = e as Record<string, unknown>;
    const type = typeof ev.e === 'string' ? ev.e : 'unknown';
    this.m.events.inc({ type });
    if (type === 'serverShutdown' || type === 'eventStreamTerminated') {
      if (c === this.current) this.rotate(type === 'serverShutdown' ? 'server_shutdown' : 'terminated');
      return;
    }
    if (type !== 'executionReport') return;
    const r = fromExecutionReport(ev);
    if (!r) {
      this.o.log.warn({ event: ev }, 'executionReport not understood; the poller will find the change');
      return;
    }
    if (this.seen.has(r.executionId)) return;
    this.seen.add(r.executionId);
    this.seenOrder.push(r.executionId);
    if (this.seenOrder.length > DEDUPE) this.seen.delete(this.seenOrder.shift()!);
    this.o.onReport(r);
  }

  private subscribed(c: Conn): void {
    if (this.closed || c !== this.next) {
      void this.end(c);
      return;
    }
    c.subscribed = true;
    this.failures = 0;
    const old = this.current;
    this.current = c;
    this.next = undefined;
    this.m.connected.set(1);
    const age = setTimeout(() => this.rotate('max_age'), this.o.maxAgeMs);
    age.unref();
    c.timers.push(age);
    if (old) void this.end(old);
    else {
      this.o.log.info({ resumed: this.hadStream }, 'user data stream subscribed');
      // Whatever happened while no subscription was up is found by one poll.
      this.o.onResumed();
    }
    this.hadStream = true;
  }

  private lost(c: Conn): void {
    for (const t of c.timers) clearTimeout(t);
    if (this.closed) return;
    if (c === this.current) {
      this.current = undefined;
      this.m.connected.set(0);
      this.o.log.warn('user data stream lost; polling until it is back');
      if (!this.next) this.later('lost');
    } else if (c === this.next) {
      this.next = undefined;
      if (!this.current) this.later('unanswered');
      else {
        // The replacement failed while the old connection still serves: try again shortly.
        this.retry = setTimeout(() => this.rotate('retry'), this.o.reconnectDelayMs);
        this.retry.unref();
      }
    }
  }

  private later(reason: string): void {
    if (this.retry) clearTimeout(this.retry);
    // A refused key or an unreachable host is retried ever more slowly: each attempt costs a
    // connection (300 per 5 minutes per IP) and request weight.
    const base = Math.min(60_000, this.o.reconnectDelayMs * 2 ** Math.min(this.failures++, 10));
    const delay = Math.max(this.o.reconnectDelayMs, base) * (1 + Math.random() * 0.2);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.rotate(reason);
    }, delay);
    this.retry.unref();
  }

  private end(c: Conn): Promise<void> {
    for (const t of c.timers) clearTimeout(t);
    if (c === this.current) this.current = undefined;
    if (c === this.next) this.next = undefined;
    if (c.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        c.ws.terminate();
        resolve();
      }, 1000);
      c.ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      if (c.ws.readyState === WebSocket.CONNECTING) c.ws.terminate();
      else c.ws.close(1000);
    });
  }
}
