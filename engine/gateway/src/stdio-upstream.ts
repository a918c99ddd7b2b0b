// --engine-stdio: the gateway runs `veloz engine --stdio` as its child (the seeds' single-process
// development mode) and restarts it with back-off when it dies. Requests are JSON lines matched
// to answers by id; the child's events are lines too. Its logs go to the gateway's stderr.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { UpstreamError, type Upstream, type UpstreamEvents, type UpstreamResponse } from './upstream.ts';

const VELOZ_BIN = fileURLToPath(new URL('../../cli/bin/veloz.js', import.meta.url));

interface Pending {
  resolve(r: UpstreamResponse): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export interface StdioUpstreamOptions {
  timeoutMs: number;
  log: Logger;
  /** Extra arguments after `veloz engine --stdio` (e.g. --wal-dir). */
  args?: string[];
  onRestart?: () => void;
}

export class StdioUpstream implements Upstream {
  get description(): string {
    return this.child
      ? `engine child process (stdio, pid ${this.child.pid})`
      : 'engine child process (stdio, restarting)';
  }

  private readonly o: StdioUpstreamOptions;
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private events: UpstreamEvents | undefined;
  private closed = false;
  private backoff = 250;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  streaming = false;

  constructor(opts: StdioUpstreamOptions) {
    this.o = opts;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(events: UpstreamEvents): void {
    this.events = events;
    this.spawn();
  }

  private spawn(): void {
    if (this.closed) return;
    const child = spawn(process.execPath, [VELOZ_BIN, 'engine', '--stdio', ...(this.o.args ?? [])], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: process.env,
    }) as unknown as ChildProcessWithoutNullStreams;
    this.child = child;
    this.startedAt = Date.now();
    this.streaming = true;
    this.events?.connected(true);
    this.o.log.info({ pid: child.pid }, 'engine child started');
    const rl = createInterface({ input: child.stdout, crlfDelay: Infinity });
    rl.on('line', (line) => this.line(line));
    child.stdin.on('error', () => undefined);
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.streaming = false;
      this.events?.connected(false);
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new UpstreamError('exited', 'the engine exited before answering'));
        this.pending.delete(id);
      }
      if (this.closed) return;
      // A child that lived a while gets a quick restart; one that keeps dying, a slower one.
      if (Date.now() - this.startedAt > 10_000) this.backoff = 250;
      this.o.log.error({ code, signal, restartInMs: this.backoff }, 'engine child exited; restarting');
      this.events?.reset('the engine restarted; events may have been lost');
      this.o.onRestart?.();
      this.restartTimer = setTimeout(() => this.spawn(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 10_000);
    });
  }

  private line(line: string): void {
    let msg: { id?: number; status?: number; body?: unknown; event?: string; data?: unknown; error?: string };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      this.o.log.warn('engine child wrote a line that is not JSON');
      return;
    }
    if (msg.event !== undefined) {
      this.events?.event(msg.event, JSON.stringify(msg.data));
      return;
    }
    if (typeof msg.id !== 'number') {
      if (msg.error) this.o.log.warn({ error: msg.error }, 'engine child refused a line');
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    const text = typeof msg.body === 'string';
    p.resolve({
      status: msg.status ?? 502,
      contentType: text ? 'text/plain; version=0.0.4; charset=utf-8' : 'application/json; charset=utf-8',
      retryAfter: undefined,
      body: Buffer.from(
        text
          ? (msg.body as string)
          : msg.body === null || msg.body === undefined
            ? ''
            : JSON.stringify(msg.body),
      ),
    });
  }

  request(
    method: string,
    path: string,
    body: Buffer | string | undefined,
    timeoutMs = this.o.timeoutMs,
  ): Promise<UpstreamResponse> {
    const child = this.child;
    if (!child || !child.stdin.writable)
      return Promise.reject(new UpstreamError('down', 'the engine is restarting'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new UpstreamError('timeout', `the engine did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      const req = {
        id,
        method,
        path,
        ...(body !== undefined ? { body: JSON.parse(body.toString()) as unknown } : {}),
      };
      child.stdin.write(`${JSON.stringify(req)}\n`);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child) return;
    // Closing stdin is the engine's clean shutdown in stdio mode.
    const exited = once(child, 'exit');
    child.stdin.end();
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }
}
