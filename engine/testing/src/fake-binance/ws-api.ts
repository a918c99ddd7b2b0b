// The fake's WebSocket API at /ws-api/v3 (web-socket-api.md), as far as the user data stream
// needs it: `userDataStream.subscribe.signature` (any key type; HMAC here: hex HMAC-SHA256 of the
// params but `signature`, sorted by name, as `k=v&...`), `userDataStream.unsubscribe`,
// `session.subscriptions`, `ping` and `time`. Events go out as {"subscriptionId", "event"}
// (user-data-stream.md); `serverShutdown` as {"event"} on every connection. Replies carry
// `rateLimits` with the REQUEST_WEIGHT the request consumed (the same per-IP budget as REST).
import { hmacSha256Hex } from '@veloz/engine/exchange/signing';
import type { WebSocket } from 'ws';

export interface FakeWsApiOptions {
  apiKey: string;
  apiSecret: string;
  serverTime(): number;
  /** Adds a request's weight to the per-IP budget; returns the weight used in this minute. */
  weigh(weight: number): number;
  weightLimit: number;
}

interface Session {
  ws: WebSocket;
  openedAt: number;
  /** subscriptionId -> API key. */
  subs: Map<number, string>;
  nextSub: number;
}

type Reply = Record<string, unknown>;

const WEIGHTS: Record<string, number> = {
  'userDataStream.subscribe.signature': 2,
  'userDataStream.unsubscribe': 2,
  'session.subscriptions': 2,
  ping: 1,
  time: 1,
};

export class FakeWsApi {
  private readonly o: FakeWsApiOptions;
  private readonly sessions = new Set<Session>();
  /** Connections accepted so far. */
  connections = 0;
  /** Subscriptions started so far. */
  subscriptions = 0;
  /**
   * Times a connection holding a subscription closed while no other connection held one: the
   * client had no stream for a while (a proactive reconnect done right leaves this at 0).
   */
  uncoveredCloses = 0;
  /** When true, account events are not delivered (a stream that is up but silent). */
  mute = false;

  constructor(opts: FakeWsApiOptions) {
    this.o = opts;
  }

  /** Connections with at least one active subscription. */
  get subscribed(): number {
    return [...this.sessions].filter((s) => s.subs.size > 0).length;
  }

  get clients(): number {
    return this.sessions.size;
  }

  accept(ws: WebSocket): void {
    this.connections += 1;
    const s: Session = { ws, openedAt: this.o.serverTime(), subs: new Map(), nextSub: 0 };
    this.sessions.add(s);
    const gone = () => {
      if (!this.sessions.delete(s)) return;
      if (s.subs.size > 0 && this.subscribed === 0) this.uncoveredCloses += 1;
    };
    ws.on('close', gone);
    ws.on('error', gone);
    ws.on('message', (raw: Buffer) => {
      const reply = this.request(s, raw.toString());
      if (reply) ws.send(JSON.stringify(reply));
    });
  }

  private request(s: Session, text: string): Reply | undefined {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return { id: null, status: 400, error: { code: -1000, msg: 'Malformed request.' } };
    }
    const m = (typeof msg === 'object' && msg !== null ? msg : {}) as {
      id?: unknown;
      method?: unknown;
      params?: unknown;
    };
    const id = m.id ?? null;
    const method = typeof m.method === 'string' ? m.method.replace(/^v3\//, '') : '';
    const params = (typeof m.params === 'object' && m.params !== null ? m.params : {}) as Record<
      string,
      unknown
    >;
    const weight = WEIGHTS[method];
    if (weight === undefined) return { id, status: 400, error: { code: -1000, msg: 'Unknown method.' } };
    const used = this.o.weigh(weight);
    const rateLimits = [
      {
        rateLimitType: 'REQUEST_WEIGHT',
        interval: 'MINUTE',
        intervalNum: 1,
        limit: this.o.weightLimit,
        count: used,
      },
    ];
    const ok = (result: unknown): Reply => ({ id, status: 200, result, rateLimits });
    const err = (status: number, code: number, msg: string): Reply => ({
      id,
      status,
      error: { code, msg },
      rateLimits,
    });
    switch (method) {
      case 'ping':
        return ok({});
      case 'time':
        return ok({ serverTime: this.o.serverTime() });
      case 'session.subscriptions':
        return ok([...s.subs.keys()].map((subscriptionId) => ({ subscriptionId })));
      case 'userDataStream.unsubscribe': {
        const which = params.subscriptionId;
        for (const sub of [...s.subs.keys()]) {
          if (typeof which === 'number' && which !== sub) continue;
          s.subs.delete(sub);
          this.send(s, {
            subscriptionId: sub,
            event: { e: 'eventStreamTerminated', E: this.o.serverTime() },
          });
        }
        return ok({});
      }
      default: {
        const bad = this.verify(params);
        if (bad) return err(bad.status, bad.code, bad.msg);
        const key = String(params.apiKey);
        if ([...s.subs.values()].includes(key))
          return err(400, -1000, 'This account is already subscribed on this connection.');
        const sub = s.nextSub++;
        s.subs.set(sub, key);
        this.subscriptions += 1;
        return ok({ subscriptionId: sub });
      }
    }
  }

  private verify(p: Record<string, unknown>): { status: number; code: number; msg: string } | undefined {
    if (typeof p.apiKey !== 'string' || typeof p.signature !== 'string' || p.timestamp === undefined)
      return {
        status: 400,
        code: -1102,
        msg: "Mandatory parameter 'apiKey', 'timestamp' or 'signature' was not sent, was empty/null, or malformed.",
      };
    if (p.apiKey !== this.o.apiKey)
      return { status: 401, code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' };
    const payload = Object.keys(p)
      .filter((k) => k !== 'signature')
      .sort()
      .map((k) => `${k}=${String(p[k])}`)
      .join('&');
    if (hmacSha256Hex(payload, this.o.apiSecret) !== p.signature.toLowerCase())
      return { status: 400, code: -1022, msg: 'Signature for this request is not valid.' };
    const recvWindow = Number(p.recvWindow ?? 5000);
    const ts = Number(p.timestamp);
    const now = this.o.serverTime();
    if (ts >= now + 1000 || now - ts > recvWindow)
      return { status: 400, code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.' };
    return undefined;
  }

  private send(s: Session, msg: unknown): void {
    if (s.ws.readyState === s.ws.OPEN) s.ws.send(JSON.stringify(msg));
  }

  /** An account event to every subscription of `apiKey`. */
  event(apiKey: string, event: Record<string, unknown>): void {
    if (this.mute) return;
    for (const s of this.sessions)
      for (const [subscriptionId, key] of s.subs) if (key === apiKey) this.send(s, { subscriptionId, event });
  }

  /** The server is about to shut down: every connection hears it (web-socket-api.md, "Server Shutdown"). */
  serverShutdown(): void {
    for (const s of this.sessions) this.send(s, { event: { e: 'serverShutdown', E: this.o.serverTime() } });
  }

  /** Ends every connection as the server does (a close frame), e.g. after the 24-hour limit. */
  closeAll(): void {
    for (const s of this.sessions) s.ws.close(1000);
  }

  /** Drops every connection abruptly (no close frame). */
  drop(): void {
    for (const s of this.sessions) s.ws.terminate();
  }
}
