// The gateway's HTTP/1.1 client against node:http servers and hand-written raw answers: every
// body framing, keep-alive reuse, connection limits, and each way a request can fail.
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { selfSignedCertificate } from '@veloz/testing/tls';
import { afterEach, describe, expect, it } from 'vitest';
import { Http1Error, Http1Pool, type Http1PoolOptions } from './http1-client.ts';

const JSON_TYPE = 'content-type: application/json\r\n';
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function listen(server: net.Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(
    () =>
      new Promise<void>((resolve) => {
        (server as http.Server).closeAllConnections?.();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

function pool(url: string, o: Omit<Http1PoolOptions, 'url'> = {}): Http1Pool {
  const p = new Http1Pool({ url, ...o });
  cleanup.push(() => p.close());
  return p;
}

/** A server that answers each request with `answer(request head)`, written as raw bytes. */
async function raw(answer: (head: string, socket: net.Socket) => void): Promise<string> {
  const server = net.createServer((socket) => {
    let buf = '';
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.slice(0, end);
        const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        buf = buf.slice(end + 4 + len);
        answer(head, socket);
      }
    });
  });
  cleanup.push(() => {
    server.close();
  });
  return listen(server);
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(Http1Error);
      return err as Http1Error;
    },
  );

describe('Http1Pool', () => {
  it('sends the body as given and returns the answer bytes as they came, reusing one connection', async () => {
    const seen: Array<{ method: string; url: string; type: string; body: string }> = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({ method: req.method!, url: req.url!, type: req.headers['content-type'] ?? '', body });
        res.writeHead(201, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '3' });
        res.end(JSON.stringify({ echo: body, note: 'héllo €' }));
      });
    });
    const url = await listen(server);
    const p = pool(url);
    const payload = Buffer.from('{"symbol":"BTCUSDT","note":"ünïcödé"}');
    for (let i = 0; i < 3; i++) {
      const res = await p.request('POST', `/api/orders?i=${i}`, JSON_TYPE, payload, 5000);
      expect(res.status).toBe(201);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['retry-after']).toBe('3');
      expect(JSON.parse(res.body.toString('utf8'))).toEqual({ echo: payload.toString(), note: 'héllo €' });
    }
    expect(seen.map((s) => s.url)).toEqual(['/api/orders?i=0', '/api/orders?i=1', '/api/orders?i=2']);
    expect(seen[0]).toMatchObject({ method: 'POST', type: 'application/json', body: payload.toString() });
    expect(p.connections).toBe(1);
    const get = await p.request('GET', '/x', '', undefined, 5000);
    expect(get.status).toBe(201);
    expect(seen.at(-1)).toMatchObject({ method: 'GET', body: '' });
  });

  it('reads chunked bodies, HEAD and 204 answers without a body, and skips 100 Continue', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/chunked') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first,');
        setTimeout(() => res.end('second'), 10);
      } else if (req.url === '/empty') {
        res.writeHead(204).end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '12' });
        res.end(req.method === 'HEAD' ? undefined : '{"ok":true}\n');
      }
    });
    const url = await listen(server);
    const p = pool(url);
    const chunked = await p.request('GET', '/chunked', '', undefined, 5000);
    expect(chunked.body.toString()).toBe('first,second');
    const head = await p.request('HEAD', '/json', '', undefined, 5000);
    expect(head).toMatchObject({ status: 200, headers: { 'content-length': '12' } });
    expect(head.body.length).toBe(0);
    expect((await p.request('GET', '/empty', '', undefined, 5000)).status).toBe(204);
    expect((await p.request('GET', '/json', '', undefined, 5000)).body.toString()).toBe('{"ok":true}\n');
    expect(p.connections).toBe(1);

    const interim = await raw((_head, s) =>
      s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'),
    );
    expect((await pool(interim).request('GET', '/', '', undefined, 5000)).body.toString()).toBe('ok');
  });

  it('parses answers that arrive a byte at a time, chunk extensions and trailers included', async () => {
    const answer =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Y: z\r\n\r\n' +
      '4;ext=1\r\nabcd\r\n3\r\nefg\r\n0\r\nTrailer-A: b\r\n\r\n';
    const url = await raw((_head, s) => {
      let i = 0;
      const next = () => {
        if (i >= answer.length) return;
        s.write(answer[i++]!);
        setImmediate(next);
      };
      next();
    });
    const p = pool(url);
    const res = await p.request('GET', '/', '', undefined, 5000);
    expect(res).toMatchObject({ status: 200, headers: { 'x-y': 'z' } });
    expect(res.body.toString()).toBe('abcdefg');
    // The connection stayed usable after the trailers.
    expect((await p.request('GET', '/', '', undefined, 5000)).body.toString()).toBe('abcdefg');
    expect(p.connections).toBe(1);
  });

  it('does not reuse a connection the server closes, and reads a body that ends with it', async () => {
    const closing = await raw((_head, s) => {
      s.end('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\none');
    });
    const p = pool(closing);
    expect((await p.request('GET', '/', '', undefined, 5000)).body.toString()).toBe('one');
    expect(p.connections).toBe(0);
    expect((await p.request('GET', '/', '', undefined, 5000)).body.toString()).toBe('one');
    const untilClose = await raw((_head, s) => s.end('HTTP/1.0 200 OK\r\n\r\nuntil the end'));
    expect((await pool(untilClose).request('GET', '/', '', undefined, 5000)).body.toString()).toBe(
      'until the end',
    );
  });

  it('fails with the reason: refused, reset mid-answer, no answer in time, not HTTP', async () => {
    const free = net.createServer();
    const freeUrl = await listen(free);
    await new Promise<void>((r) => free.close(() => r()));
    expect((await failure(pool(freeUrl).request('GET', '/', '', undefined, 5000))).code).toBe('ECONNREFUSED');

    const cut = await raw((_head, s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
      setTimeout(() => s.destroy(), 10);
    });
    expect((await failure(pool(cut).request('GET', '/', '', undefined, 5000))).code).toBe('ECONNRESET');

    const silent = await raw(() => undefined);
    const p = pool(silent);
    const t0 = performance.now();
    const slow = await failure(p.request('GET', '/', '', undefined, 100));
    expect(slow.code).toBe('timeout');
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(p.connections).toBe(0);

    const garbage = await raw((_head, s) => s.write('SSH-2.0-OpenSSH\r\n\r\n'));
    expect((await failure(pool(garbage).request('GET', '/', '', undefined, 5000))).code).toBe('protocol');
    const extra = await raw((_head, s) =>
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n\r\n'),
    );
    const q = pool(extra);
    // The answer is whole; the unasked-for bytes after it make the connection unusable.
    expect((await q.request('GET', '/', '', undefined, 5000)).body.toString()).toBe('x');
    expect(q.connections).toBe(0);
    await expect(pool(extra).request('GET', 'no-slash', '', undefined, 5000)).rejects.toThrow(
      /invalid method or path/,
    );
  });

  it('opens at most maxConnections and queues the rest; closes idle connections', async () => {
    let open = 0;
    let most = 0;
    const server = http.createServer((_req, res) => {
      setTimeout(() => res.end('done'), 20);
    });
    server.on('connection', (s: net.Socket) => {
      most = Math.max(most, ++open);
      s.on('close', () => open--);
    });
    const url = await listen(server);
    const p = pool(url, { maxConnections: 2, idleMs: 200 });
    const answers = await Promise.all(
      Array.from({ length: 7 }, () => p.request('GET', '/', '', undefined, 5000)),
    );
    expect(answers.map((a) => a.body.toString())).toEqual(Array(7).fill('done'));
    expect(most).toBe(2);
    expect(p.connections).toBe(2);
    for (let i = 0; i < 40 && p.connections > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(p.connections).toBe(0);
  });

  it('fails requests in flight and later ones once closed', async () => {
    const url = await raw(() => undefined);
    const p = new Http1Pool({ url });
    const pending = failure(p.request('GET', '/', '', undefined, 5000));
    await new Promise((r) => setTimeout(r, 20));
    p.close();
    expect((await pending).code).toBe('closed');
    expect((await failure(p.request('GET', '/', '', undefined, 5000))).code).toBe('closed');
  });

  describe('with pipelining', () => {
    it('sends requests of one turn together on one connection and matches answers in order', async () => {
      let connections = 0;
      const server = http.createServer((req, res) => {
        // Later requests answer sooner: node still sends the answers in the order asked.
        setTimeout(() => res.end(req.url), 30 - Number(req.url!.slice(1)));
      });
      server.on('connection', () => connections++);
      const url = await listen(server);
      const p = pool(url, { pipelining: 8 });
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => p.request('GET', `/${i}`, '', undefined, 5000)),
      );
      expect(answers.map((a) => a.body.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `/${i}`));
      // 20 requests, 8 per connection.
      expect(connections).toBe(3);
      expect(p.connections).toBe(3);
      // Later requests go to the most recently used connection with room.
      await p.request('GET', '/1', '', undefined, 5000);
      expect(connections).toBe(3);
    });

    it('fails every unanswered request of a connection that breaks, times out or closes', async () => {
      const reads: string[] = [];
      const cut = await raw((head, s) => {
        reads.push(head.split(' ')[1]!);
        if (reads.length === 1) s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        else if (reads.length === 3) s.destroy();
      });
      const p = pool(cut, { pipelining: 4 });
      const results = await Promise.allSettled(
        ['/a', '/b', '/c'].map((path) => p.request('POST', path, JSON_TYPE, '{}', 5000)),
      );
      expect(results[0]).toMatchObject({ status: 'fulfilled', value: { status: 200 } });
      for (const r of results.slice(1))
        expect(r).toMatchObject({ status: 'rejected', reason: { code: 'ECONNRESET' } });

      const silent = await raw(() => undefined);
      const q = pool(silent, { pipelining: 4 });
      const slow = await Promise.allSettled([
        q.request('GET', '/1', '', undefined, 100),
        q.request('GET', '/2', '', undefined, 5000),
      ]);
      expect(slow.map((r) => r.status === 'rejected' && (r.reason as Http1Error).code)).toEqual([
        'timeout',
        'timeout',
      ]);

      const closing = await raw((_head, s) =>
        s.write('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbusy'),
      );
      const c = pool(closing, { pipelining: 4 });
      const closed = await Promise.allSettled([
        c.request('GET', '/1', '', undefined, 5000),
        c.request('GET', '/2', '', undefined, 5000),
      ]);
      expect(closed[0]).toMatchObject({ status: 'fulfilled', value: { status: 503 } });
      expect(closed[1]).toMatchObject({ status: 'rejected', reason: { code: 'ECONNRESET' } });
    });
  });

  it('streams an answer as it arrives on a connection of its own until closed', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/short') return void res.end('all of it');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('id: 1\n\n');
      setTimeout(() => res.write('id: 2\n\n'), 20);
    });
    const url = await listen(server);
    const p = pool(url);
    const seen: string[] = [];
    let status = 0;
    let ended: Http1Error | undefined | 'open' = 'open';
    const s = p.stream(
      'GET',
      '/events',
      'accept: text/event-stream\r\n',
      50,
      {
        head: (st, headers) => {
          status = st;
          expect(headers['content-type']).toBe('text/event-stream');
        },
        data: (piece) => seen.push(piece.toString()),
      },
      (err) => (ended = err),
    );
    for (let i = 0; i < 100 && seen.join('') !== 'id: 1\n\nid: 2\n\n'; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(status).toBe(200);
    expect(seen.join('')).toBe('id: 1\n\nid: 2\n\n');
    // No time limit once the head is in: the stream outlives the 50 ms given for the head.
    await new Promise((r) => setTimeout(r, 100));
    expect(ended).toBe('open');
    s.close();
    expect(ended).toMatchObject({ code: 'closed' });
    expect(p.connections).toBe(0);

    const whole: string[] = [];
    const done = await new Promise<Http1Error | undefined>((resolve) =>
      p.stream(
        'GET',
        '/short',
        '',
        1000,
        { head: () => undefined, data: (b) => whole.push(b.toString()) },
        resolve,
      ),
    );
    expect(done).toBeUndefined();
    expect(whole.join('')).toBe('all of it');
  });
});

const tlsPair = selfSignedCertificate();

describe.skipIf(typeof tlsPair === 'string')(
  typeof tlsPair === 'string' ? `Http1Pool over https: SKIPPED, ${tlsPair}` : 'Http1Pool over https',
  () => {
    const { key, cert } = tlsPair as { key: string; cert: string };
    async function server(): Promise<string> {
      const srv = https.createServer({ key, cert }, (req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ path: req.url, host: req.headers.host }));
      });
      return (await listen(srv)).replace('http:', 'https:');
    }

    it('verifies the engine against the CA it is given and keeps the connection alive', async () => {
      const url = await server();
      const p = pool(url, { tls: { ca: cert } });
      for (const path of ['/a', '/b']) {
        const res = await p.request('GET', path, '', undefined, 5000);
        expect(res.status).toBe(200);
        expect(JSON.parse(res.body.toString())).toEqual({ path, host: new URL(url).host });
      }
      expect(p.connections).toBe(1);
    });

    it('refuses an engine whose certificate it cannot verify', async () => {
      const url = await server();
      const err = await failure(pool(url).request('GET', '/a', '', undefined, 5000));
      expect(err.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    });
  },
);
