// The event stream from the engine recovers from a connection that goes silent without closing
// (found on a real node: a deleted engine pod's address never answers).
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpUpstream } from './http-upstream.ts';

let server: http.Server | undefined;
let upstream: HttpUpstream | undefined;

afterEach(async () => {
  await upstream?.close();
  server?.closeAllConnections();
  server?.close();
});

describe('HttpUpstream event stream', () => {
  it('reconnects when the stream goes silent, and resumes with Last-Event-ID', async () => {
    const seen: Array<string | undefined> = [];
    server = http.createServer((req, res) => {
      seen.push(req.headers['last-event-id'] as string | undefined);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // The first stream sends one event, then nothing: no heartbeat, no close.
      if (seen.length === 1) res.write('id: 7\nevent: order\ndata: {"n":1}\n\n');
      else res.write('id: 8\nevent: order\ndata: {"n":2}\n\n');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    upstream = new HttpUpstream({
      url: `http://127.0.0.1:${port}`,
      timeoutMs: 1000,
      log: pino({ level: 'silent' }),
      stallMs: 150,
    });
    const events: string[] = [];
    const ups: boolean[] = [];
    const second = new Promise<void>((resolve) =>
      upstream!.start({
        event: (type, data) => {
          events.push(`${type} ${data}`);
          if (events.length === 2) resolve();
        },
        reset: () => undefined,
        connected: (up) => ups.push(up),
      }),
    );
    await second;
    expect(events).toEqual(['order {"n":1}', 'order {"n":2}']);
    expect(seen).toEqual([undefined, '7']);
    expect(ups.slice(0, 3)).toEqual([true, false, true]);
  });
});
