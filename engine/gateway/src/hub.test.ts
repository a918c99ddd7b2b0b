import { once } from 'node:events';
import http from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EventHub } from './hub.ts';

describe('gateway event hub', () => {
  it('numbers events from its boot time and resumes after a known id', () => {
    const hub = new EventHub(3, 1000);
    for (const x of ['a', 'b', 'c', 'd']) hub.publish('order', JSON.stringify(x));
    expect(hub.lastId).toBe(1003);
    expect(hub.since(1003)).toEqual([]);
    expect(hub.since(1001)?.map((e) => e.id)).toEqual([1002, 1003]);
    expect(hub.since(1000)?.map((e) => e.id)).toEqual([1001, 1002, 1003]);
    // Left the buffer, or an id this hub never gave out (an earlier gateway's): a reset.
    expect(hub.since(999)).toBeNull();
    expect(hub.since(5000)).toBeNull();
    expect(hub.since(5)).toBeNull();
    expect(hub.since(1002)?.[0]?.frame).toBe('id: 1003\nevent: order\ndata: "d"\n\n');
  });

  it('keeps only the last `capacity` events however many pass', () => {
    const hub = new EventHub(10, 1);
    for (let i = 0; i < 5000; i++) hub.publish('order', String(i));
    expect(hub.since(hub.lastId - 10)?.map((e) => e.frame.split('\n')[2])).toEqual(
      Array.from({ length: 10 }, (_, i) => `data: ${4990 + i}`),
    );
    expect(hub.since(hub.lastId - 11)).toBeNull();
  });

  describe('over HTTP', () => {
    let server: http.Server | undefined;
    afterEach(async () => {
      server?.closeAllConnections();
      await new Promise((r) => server?.close(r));
    });

    it('cuts off a client that stops reading while another keeps receiving everything', async () => {
      const hub = new EventHub(100, 1);
      let slowCut = 0;
      server = http.createServer((req, res) =>
        hub.serve(req, res, undefined, {
          heartbeatMs: 60_000,
          maxBufferedBytes: 256 * 1024,
          onSlow: () => slowCut++,
        }),
      );
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const port = (server.address() as AddressInfo).port;
      const slow = connect(port, '127.0.0.1');
      slow.on('error', () => undefined);
      slow.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      slow.pause();
      let received = 0;
      const reader = new Promise<void>((resolve) => {
        http.get(`http://127.0.0.1:${port}/`, (r) => {
          r.setEncoding('utf8');
          let buf = '';
          r.on('data', (d: string) => {
            buf += d;
            let at: number;
            while ((at = buf.indexOf('\n\n')) >= 0) {
              if (buf.slice(0, at).includes('event: big')) received++;
              buf = buf.slice(at + 2);
            }
            if (received === 400) {
              r.destroy();
              resolve();
            }
          });
        });
      });
      while (hub.size < 2) await new Promise((r) => setTimeout(r, 5));
      const payload = JSON.stringify('x'.repeat(64 * 1024));
      // 25 MiB in all: far more than the kernel buffers for the client that never reads.
      for (let i = 0; i < 400; i++) {
        hub.publish('big', payload);
        await new Promise((r) => setImmediate(r));
      }
      await reader;
      expect(received).toBe(400);
      expect(slowCut).toBe(1);
      // The reader hung up itself; both streams end.
      while (hub.size > 0) await new Promise((r) => setTimeout(r, 5));
      slow.destroy();
    });
  });
});
