// The engine over HTTP: keep-alive connections for requests, and one long-lived subscription to
// its /api/stream that resumes with Last-Event-ID after a blip. The engine's event ids start at 1
// in every process, so ids going backwards mean the engine restarted: clients get a reset.
import type { Logger } from 'pino';
import { ENGINE_TOKEN_HEADER } from '@veloz/api/http/credentials';
import { Http1Pool, type Http1Error } from './http1-client.ts';
import { UpstreamError, type Upstream, type UpstreamEvents, type UpstreamResponse } from './upstream.ts';

const JSON_TYPE = 'content-type: application/json\r\n';
const FRAME_END = Buffer.from('\n\n');

/**
 * Requests in flight on one connection to the engine. Pipelining lets the requests that reach
 * the gateway in one turn of its event loop leave in one write and be read by the engine in one
 * read: in bench:gateway it cuts the gateway's CPU per order by about a quarter and the engine's
 * by a tenth. It costs next to nothing in latency with this engine: its answers wait only for
 * local disk writes (the WAL durable up to the request's records; a strategy change also writes
 * a small file), never for the exchange or the network, so they are ready in about the order
 * asked anyway.
 * A connection that fails takes its unanswered requests with it (each gets a 503: outcome
 * unknown, retry with the same clientOrderId), as one request alone would.
 */
const PIPELINING = 32;

/**
 * The engine sends a heartbeat on its event stream every 15 s. Silence for three of them means the
 * connection died without being closed (the engine's node gone, a dropped route): the stream is
 * replaced, or the gateway would stay unready behind an engine that is back.
 */
const STREAM_STALL_MS = 45_000;

export interface HttpUpstreamOptions {
  url: string;
  timeoutMs: number;
  log: Logger;
  /** Silence on the engine's event stream after which it is reconnected (default 45 s). */
  stallMs?: number;
  /**
   * The engine token of scope trading to send (ADR 14), asked at each request: a token file
   * rotated under the running gateway is picked up. None: the engine must serve it as a
   * loopback client.
   */
  token?: { first(): string | undefined; close(): void };
}

export class HttpUpstream implements Upstream {
  readonly description: string;
  private readonly o: HttpUpstreamOptions;
  private readonly pool: Http1Pool;
  private events: UpstreamEvents | undefined;
  private stream: { close(): void } | undefined;
  private lastEngineId: number | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private backoff = 100;
  streaming = false;

  constructor(opts: HttpUpstreamOptions) {
    this.o = opts;
    this.description = `engine at ${new URL(opts.url).origin}`;
    this.pool = new Http1Pool({ url: opts.url, maxConnections: 512, pipelining: PIPELINING });
  }

  request(
    method: string,
    path: string,
    body: Buffer | string | undefined,
    timeoutMs = this.o.timeoutMs,
  ): Promise<UpstreamResponse> {
    const headers = this.tokenHeader() + (body === undefined ? '' : JSON_TYPE);
    return this.pool.request(method, path, headers, body, timeoutMs).then(
      (res) => {
        const h = res.headers;
        return {
          status: res.status,
          contentType: h['content-type'],
          retryAfter: h['retry-after'],
          body: res.body,
        };
      },
      (err: Http1Error) => {
        throw err.code === 'timeout'
          ? new UpstreamError('timeout', `the engine did not answer within ${timeoutMs} ms`)
          : new UpstreamError(err.code, `the engine is unreachable: ${err.message}`);
      },
    );
  }

  private tokenHeader(): string {
    const t = this.o.token?.first();
    // splitTokens never yields a token with a line break, so it cannot inject a header.
    return t ? `${ENGINE_TOKEN_HEADER}: ${t}\r\n` : '';
  }

  start(events: UpstreamEvents): void {
    this.events = events;
    this.subscribe();
  }

  private subscribe(): void {
    if (this.closed) return;
    let headers = `accept: text/event-stream\r\n${this.tokenHeader()}`;
    if (this.lastEngineId !== undefined) headers += `last-event-id: ${this.lastEngineId}\r\n`;
    let pending: Buffer | undefined;
    let ended = false;
    let open = false;
    let heard = performance.now();
    const stallMs = this.o.stallMs ?? STREAM_STALL_MS;
    const watchdog = setInterval(
      () => {
        if (performance.now() - heard < stallMs) return;
        end(`no event or heartbeat for ${stallMs} ms`);
        stream.close();
      },
      Math.max(10, stallMs / 3),
    );
    watchdog.unref();
    const end = (why: string) => {
      if (ended) return;
      ended = true;
      clearInterval(watchdog);
      if (this.streaming) {
        this.streaming = false;
        this.events?.connected(false);
        this.o.log.warn({ why }, 'engine event stream lost; reconnecting');
      }
      if (this.closed) return;
      this.retry = setTimeout(() => this.subscribe(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 2000);
    };
    // Two frames arrive per order: they are cut from the bytes as they come (a frame ends with
    // an empty line) and only each frame's text is decoded.
    const stream = this.pool.stream(
      'GET',
      '/api/stream',
      headers,
      this.o.timeoutMs,
      {
        head: (status) => {
          if (status !== 200) {
            end(`status ${status}`);
            stream.close();
            return;
          }
          open = true;
          heard = performance.now();
          this.backoff = 100;
          this.streaming = true;
          this.events?.connected(true);
        },
        data: (piece) => {
          if (!open) return;
          heard = performance.now();
          const buf = pending === undefined ? piece : Buffer.concat([pending, piece]);
          let start = 0;
          let at: number;
          while ((at = buf.indexOf(FRAME_END, start)) >= 0) {
            this.frame(buf.toString('utf8', start, at));
            start = at + 2;
          }
          pending = start === buf.length ? undefined : buf.subarray(start);
        },
      },
      (err) => end(err ? err.message : 'stream ended'),
    );
    this.stream = stream;
  }

  private frame(text: string): void {
    let id: number | undefined;
    let type = 'message';
    const data: string[] = [];
    // Line by line without splitting or regular expressions: two frames arrive per order.
    for (let pos = 0; pos < text.length;) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = text.length;
      if (text.charCodeAt(pos) !== 58 /* ':' comment */) {
        const colon = text.indexOf(':', pos);
        let field: string;
        let value = '';
        if (colon < 0 || colon > nl) field = text.slice(pos, nl);
        else {
          field = text.slice(pos, colon);
          const v = text.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1;
          value = text.slice(v, nl);
        }
        if (field === 'id') id = Number(value);
        else if (field === 'event') type = value;
        else if (field === 'data') data.push(value);
      }
      pos = nl + 1;
    }
    if (data.length === 0) return;
    if (type === 'reset') {
      this.events?.reset('the engine no longer buffers the events since the last one seen');
      return;
    }
    if (id !== undefined && Number.isFinite(id)) {
      if (this.lastEngineId !== undefined && id <= this.lastEngineId)
        this.events?.reset('the engine restarted; events may have been lost');
      this.lastEngineId = id;
    }
    this.events?.event(type, data.join('\n'));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.o.token?.close();
    if (this.retry) clearTimeout(this.retry);
    this.stream?.close();
    this.pool.close();
  }
}
