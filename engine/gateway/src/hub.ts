// The gateway's event fan-out. Events get the gateway's own ids, which start at the boot time in
// microseconds: they keep increasing across engine restarts (whose ids start again at 1) and
// across gateway restarts, so a Last-Event-ID from before either is recognised and answered with
// a reset instead of silently skipping events. Each frame is built once and written to every
// client; a client whose unsent bytes pass a limit is cut off, so it never holds others back.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface HubEvent {
  id: number;
  frame: string;
}

export interface SseClientOptions {
  heartbeatMs: number;
  maxBufferedBytes: number;
  onSlow?: () => void;
}

export class EventHub {
  private readonly ring: HubEvent[] = [];
  private head = 0;
  private readonly capacity: number;
  private nextId: number;
  private readonly clients = new Set<(e: HubEvent) => void>();
  private readonly closers = new Set<() => void>();

  constructor(capacity: number, firstId = Date.now() * 1000) {
    this.capacity = capacity;
    this.nextId = firstId;
  }

  get size(): number {
    return this.clients.size;
  }

  get lastId(): number {
    return this.nextId - 1;
  }

  /** `data` is JSON text, forwarded as it came from the engine. */
  publish(type: string, data: string): void {
    const id = this.nextId++;
    const e = { id, frame: `id: ${id}\nevent: ${type}\ndata: ${data}\n\n` };
    this.ring.push(e);
    if (this.ring.length - this.head > this.capacity) this.head++;
    if (this.head > 1024 && this.head * 2 > this.ring.length) {
      this.ring.splice(0, this.head);
      this.head = 0;
    }
    for (const c of this.clients) c(e);
  }

  /** Events after `lastId`, or null when they cannot be given (left the buffer, or not ours). */
  since(lastId: number): HubEvent[] | null {
    if (lastId > this.lastId) return null;
    const first = this.ring[this.head];
    if (!first) return lastId === this.lastId ? [] : null;
    if (lastId < first.id - 1) return null;
    return this.ring.slice(this.head + (lastId - first.id + 1));
  }

  /** Serves one SSE client on a raw response until it or the hub closes. */
  serve(
    req: IncomingMessage,
    res: ServerResponse,
    lastEventId: string | undefined,
    o: SseClientOptions,
  ): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      // HTTP/2 forbids connection-specific headers (its streams are multiplexed anyway).
      ...(req.httpVersionMajor >= 2 ? {} : { connection: 'keep-alive' }),
      'x-accel-buffering': 'no',
    });
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      this.clients.delete(send);
      this.closers.delete(close);
      clearInterval(heartbeat);
      res.destroy();
    };
    const send = (e: HubEvent | string): void => {
      if (closed) return;
      res.write(typeof e === 'string' ? e : e.frame);
      if (res.writableLength > o.maxBufferedBytes) {
        o.onSlow?.();
        close();
      }
    };
    const heartbeat = setInterval(() => send(': heartbeat\n\n'), o.heartbeatMs);
    res.on('close', close);
    req.on('close', close);
    this.closers.add(close);
    res.write(': connected\n\n');
    const last = lastEventId !== undefined && /^\d+$/.test(lastEventId) ? Number(lastEventId) : undefined;
    if (last !== undefined) {
      const missed = this.since(last);
      if (missed === null)
        send(
          `event: reset\ndata: ${JSON.stringify({ reason: 'events since Last-Event-ID are no longer buffered' })}\n\n`,
        );
      else for (const e of missed) send(e);
    }
    this.clients.add(send);
  }

  /** Ends every client stream (shutdown). */
  closeAll(): void {
    for (const c of [...this.closers]) c();
  }
}
