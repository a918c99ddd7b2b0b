// The fake's WebSocket market streams, as web-socket-streams.md describes them: raw streams at
// /ws/<stream>, combined ones at /stream?streams=a/b wrapped as {"stream","data"}, and the live
// control messages SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY and GET_PROPERTY with
// their documented replies and errors. serverShutdown is sent on request.
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';

interface Sub {
  ws: WebSocket;
  combined: boolean;
  streams: Set<string>;
}

const METHODS = ['SUBSCRIBE', 'UNSUBSCRIBE', 'LIST_SUBSCRIPTIONS', 'SET_PROPERTY', 'GET_PROPERTY'];

type Reply = Record<string, unknown>;

/** The id rules of the docs: a 64-bit integer, an alphanumeric string of at most 36, or null. */
function validId(id: unknown): boolean {
  if (id === null) return true;
  if (typeof id === 'number') return Number.isInteger(id);
  return typeof id === 'string' && /^[A-Za-z0-9]{1,36}$/.test(id);
}

export class FakeStreams {
  private readonly subs = new Set<Sub>();
  pongs = 0;
  connections = 0;

  get clients(): number {
    return this.subs.size;
  }

  accept(ws: WebSocket, req: IncomingMessage): void {
    this.connections += 1;
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
    ws.on('message', (raw: Buffer) => ws.send(JSON.stringify(this.control(sub, raw.toString()))));
  }

  /** The reply to one control message. */
  control(sub: Sub, text: string): Reply {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return { code: 3, msg: 'Invalid JSON: expected value at line 1 column 1' };
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg))
      return { code: 3, msg: 'Invalid JSON: expected value at line 1 column 1' };
    const m = msg as { method?: unknown; params?: unknown; id?: unknown };
    if (m.method === undefined)
      return { code: 2, msg: 'Invalid request: missing field `method` at line 1 column 1' };
    if (typeof m.method !== 'string' || !METHODS.includes(m.method))
      return {
        code: 2,
        msg: `Invalid request: unknown variant \`${typeof m.method === 'string' ? m.method : JSON.stringify(m.method)}\`, expected one of \`SUBSCRIBE\`, \`UNSUBSCRIBE\`, \`LIST_SUBSCRIPTIONS\`, \`SET_PROPERTY\`, \`GET_PROPERTY\` at line 1 column 28`,
      };
    if (!validId(m.id ?? null))
      return { code: 2, msg: 'Invalid request: request ID must be an unsigned integer' };
    const id = m.id ?? null;
    const params = Array.isArray(m.params) ? (m.params as unknown[]) : [];
    switch (m.method) {
      case 'SUBSCRIBE':
        for (const p of params) if (typeof p === 'string') sub.streams.add(p);
        return { result: null, id };
      case 'UNSUBSCRIBE':
        for (const p of params) if (typeof p === 'string') sub.streams.delete(p);
        return { result: null, id };
      case 'LIST_SUBSCRIPTIONS':
        return { result: [...sub.streams], id };
      case 'SET_PROPERTY': {
        if (typeof params[0] !== 'string')
          return { code: 2, msg: 'Invalid request: property name must be a string' };
        if (params[0] !== 'combined') return { code: 0, msg: 'Unknown property', id };
        if (typeof params[1] !== 'boolean') return { code: 1, msg: 'Invalid value type: expected Boolean' };
        sub.combined = params[1];
        return { result: null, id };
      }
      default: {
        if (typeof params[0] !== 'string')
          return { code: 2, msg: 'Invalid request: property name must be a string' };
        if (params[0] !== 'combined') return { code: 0, msg: 'Unknown property', id };
        return { result: sub.combined, id };
      }
    }
  }

  broadcast(stream: string, data: unknown): void {
    for (const s of this.subs) {
      if (!s.streams.has(stream)) continue;
      s.ws.send(JSON.stringify(s.combined ? { stream, data } : data));
    }
  }

  /** The server is about to shut down (every connection hears it, whatever it subscribed to). */
  serverShutdown(time: number): void {
    const data = { e: 'serverShutdown', E: time };
    for (const s of this.subs)
      s.ws.send(JSON.stringify(s.combined ? { stream: '!serverShutdown', data } : data));
  }

  ping(): void {
    for (const s of this.subs) s.ws.ping();
  }

  /** Drops every connection abruptly (no close frame). */
  drop(): void {
    for (const s of this.subs) s.ws.terminate();
  }
}
