// Reading an engine's or gateway's server-sent events in tests, frame by frame as a browser's
// EventSource would (id, event, data), without reconnecting: tests decide when to resume.
import http from 'node:http';

export interface SseEvent {
  id: string | undefined;
  type: string;
  data: string;
}

export interface SseClient {
  /** Every event received so far, in order. */
  readonly events: SseEvent[];
  status(): number | undefined;
  close(): void;
}

/** Opens `url` and records every event it sends until closed. */
export function sseClient(url: string, headers: Record<string, string> = {}): SseClient {
  const events: SseEvent[] = [];
  let res: http.IncomingMessage | undefined;
  let buf = '';
  const req = http.get(url, { headers }, (r) => {
    res = r;
    r.setEncoding('utf8');
    r.on('data', (chunk: string) => {
      buf += chunk;
      let at: number;
      while ((at = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, at);
        buf = buf.slice(at + 2);
        const ev: SseEvent = { id: undefined, type: 'message', data: '' };
        let data = false;
        for (const line of frame.split('\n')) {
          if (line.startsWith('id: ')) ev.id = line.slice(4);
          else if (line.startsWith('event: ')) ev.type = line.slice(7);
          else if (line.startsWith('data: ')) {
            ev.data = line.slice(6);
            data = true;
          }
        }
        if (data) events.push(ev);
      }
    });
    // A test closes the stream (or kills the server) on purpose; what it expected is asserted
    // on the events, not on how the connection ended.
    r.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  return {
    events,
    status: () => res?.statusCode,
    close: () => req.destroy(),
  };
}
