// The engine over HTTP: keep-alive connections for requests, and one long-lived subscription to
// its /api/stream that resumes with Last-Event-ID after a blip. The engine's event ids start at 1
// in every process, so ids going backwards mean the engine restarted: clients get a reset.
import http from 'node:http';
import type { Logger } from 'pino';
import { UpstreamError, type Upstream, type UpstreamEvents, type UpstreamResponse } from './upstream.ts';

export interface HttpUpstreamOptions {
  url: string;
  timeoutMs: number;
  log: Logger;
}

export class HttpUpstream implements Upstream {
  readonly description: string;
  private readonly o: HttpUpstreamOptions;
  private readonly target: URL;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 512, scheduling: 'lifo' });
  private events: UpstreamEvents | undefined;
  private stream: http.ClientRequest | undefined;
  private lastEngineId: number | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private backoff = 100;
  streaming = false;

  constructor(opts: HttpUpstreamOptions) {
    this.o = opts;
    this.target = new URL(opts.url);
    this.description = `engine at ${this.target.origin}`;
  }

  request(
    method: string,
    path: string,
    body: string | undefined,
    timeoutMs = this.o.timeoutMs,
  ): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      const req = http.request({
        agent: this.agent,
        host: this.target.hostname,
        port: this.target.port,
        method,
        path,
        headers:
          body !== undefined
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
            : {},
      });
      req.setTimeout(timeoutMs, () =>
        req.destroy(new UpstreamError('timeout', `the engine did not answer within ${timeoutMs} ms`)),
      );
      req.on('error', (err: Error & { code?: string }) => {
        reject(
          err instanceof UpstreamError
            ? err
            : new UpstreamError(err.code ?? 'error', `the engine is unreachable: ${err.code ?? err.message}`),
        );
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) =>
          reject(new UpstreamError('reset', `the engine answer was cut off: ${err.message}`)),
        );
        res.on('end', () => {
          const ra: string | string[] | undefined = res.headers['retry-after'];
          resolve({
            status: res.statusCode ?? 502,
            contentType: res.headers['content-type'],
            retryAfter: typeof ra === 'string' ? ra : ra?.[0],
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      });
      req.end(body);
    });
  }

  start(events: UpstreamEvents): void {
    this.events = events;
    this.subscribe();
  }

  private subscribe(): void {
    if (this.closed) return;
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.lastEngineId !== undefined) headers['last-event-id'] = String(this.lastEngineId);
    const req = http.get({
      host: this.target.hostname,
      port: this.target.port,
      path: '/api/stream',
      headers,
    });
    this.stream = req;
    let buf = '';
    let ended = false;
    const end = (why: string) => {
      if (ended) return;
      ended = true;
      if (this.streaming) {
        this.streaming = false;
        this.events?.connected(false);
        this.o.log.warn({ why }, 'engine event stream lost; reconnecting');
      }
      if (this.closed) return;
      this.retry = setTimeout(() => this.subscribe(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 2000);
    };
    req.on('error', (err: Error & { code?: string }) => end(err.code ?? err.message));
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        end(`status ${res.statusCode}`);
        return;
      }
      this.backoff = 100;
      this.streaming = true;
      this.events?.connected(true);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let at: number;
        while ((at = buf.indexOf('\n\n')) >= 0) {
          this.frame(buf.slice(0, at));
          buf = buf.slice(at + 2);
        }
      });
      res.on('end', () => end('stream ended'));
      res.on('error', (err) => end(err.message));
      res.on('close', () => end('stream closed'));
    });
  }

  private frame(text: string): void {
    let id: number | undefined;
    let type = 'message';
    const data: string[] = [];
    for (const line of text.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = Number(value);
      else if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
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
    if (this.retry) clearTimeout(this.retry);
    this.stream?.destroy();
    this.agent.destroy();
  }
}
