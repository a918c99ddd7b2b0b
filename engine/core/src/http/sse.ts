// Server-sent events from an EventHub: resume with Last-Event-ID, heartbeats, and a slow client
// is cut off once its unsent buffer passes a limit, so it never holds anything else back.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EngineEvent, EventHub } from '../engine/events.ts';

export interface SseOptions {
  heartbeatMs: number;
  maxBufferedBytes: number;
  onClientsChanged?: (delta: number) => void;
  /** Open streams, closed by the app's preClose hook so shutdown never waits on them. */
  open: Set<() => void>;
}

function frame(e: EngineEvent): string {
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`;
}

export function streamEvents(
  hub: EventHub,
  req: FastifyRequest,
  reply: FastifyReply,
  opts: SseOptions,
): void {
  const header = req.headers['last-event-id'];
  const query = (req.query as { lastEventId?: string } | undefined)?.lastEventId;
  const lastId = Number(Array.isArray(header) ? header[0] : (header ?? query));
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  let closed = false;
  const send = (chunk: string): void => {
    if (closed) return;
    res.write(chunk);
    if (res.writableLength > opts.maxBufferedBytes) {
      req.log.warn({ buffered: res.writableLength }, 'event stream client too slow; disconnecting');
      close();
    }
  };
  const unsubscribe = hub.subscribe((e) => send(frame(e)));
  const heartbeat = setInterval(() => send(': heartbeat\n\n'), opts.heartbeatMs);
  opts.onClientsChanged?.(1);
  const close = (): void => {
    if (closed) return;
    closed = true;
    opts.open.delete(close);
    unsubscribe();
    clearInterval(heartbeat);
    opts.onClientsChanged?.(-1);
    res.destroy();
  };
  opts.open.add(close);
  res.on('close', close);
  res.write(': connected\n\n');
  if (Number.isInteger(lastId) && lastId >= 0) {
    const missed = hub.since(lastId);
    if (missed === null)
      send(
        `event: reset\ndata: ${JSON.stringify({ reason: 'events since Last-Event-ID are no longer buffered' })}\n\n`,
      );
    else for (const e of missed) send(frame(e));
  }
}
