import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BlockGetError, getInBlocks } from './block-get.ts';

const servers: Array<{ close(): unknown }> = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function serve(handler: (path: string, res: ServerResponse) => void): Promise<URL> {
  const srv: Server = createServer((req, res) => handler(req.url ?? '', res));
  servers.push(srv);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return new URL(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/`);
}

/** A server that writes `raw` bytes as they are, in pieces of `piece` bytes. */
async function serveRaw(raw: Buffer, piece: number, thenClose = true): Promise<URL> {
  const srv = createNetServer((s: Socket) => {
    s.once('data', () => {
      void (async () => {
        for (let i = 0; i < raw.length; i += piece) {
          s.write(raw.subarray(i, i + piece));
          await new Promise((r) => setImmediate(r));
        }
        if (thenClose) s.end();
      })();
    });
  });
  servers.push(srv);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return new URL(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/`);
}

const opts = { idleMs: 5000, idleError: () => new Error('idle'), block: 4096 };

async function readBody(url: URL, block = opts.block) {
  const r = await getInBlocks(url, { ...opts, block });
  // Copies: a view is only valid until the next one is asked for.
  const views: Buffer[] = [];
  const blocks = new Set<ArrayBufferLike>();
  try {
    for await (const v of r.body) {
      views.push(Buffer.from(v));
      blocks.add(v.buffer);
    }
  } finally {
    r.destroy();
  }
  return { status: r.status, headers: r.headers, views, blocks, body: Buffer.concat(views) };
}

const data = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) % 251));

describe('getInBlocks', () => {
  it('reads a body with a content-length into whole blocks', async () => {
    const url = await serve((_, res) => {
      res.setHeader('content-length', data.length);
      res.end(data);
    });
    const got = await readBody(url);
    expect(got.status).toBe(200);
    expect(got.body.equals(data)).toBe(true);
    // Every view but the last fills its block (the first one shares it with the response head).
    expect(got.views.slice(1, -1).every((v) => v.length === opts.block)).toBe(true);
  });

  it('reads a chunked body, whatever the pieces it arrives in', async () => {
    const url = await serve((_, res) => {
      void (async () => {
        for (let i = 0; i < data.length; i += 7000) {
          res.write(data.subarray(i, i + 7000));
          await new Promise((r) => setImmediate(r));
        }
        res.end();
      })();
    });
    expect((await readBody(url)).body.equals(data)).toBe(true);
    const chunked = Buffer.concat([
      Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'),
      Buffer.from('5;ext=1\r\nhello\r\n'),
      Buffer.from('1\r\n \r\n6\r\nworld!\r\n0\r\nx-trailer: 1\r\n\r\n'),
    ]);
    for (const piece of [1, 3, 1000]) {
      const got = await readBody(await serveRaw(chunked, piece, false), 8);
      expect(got.body.toString()).toBe('hello world!');
    }
  });

  it('reads a body that ends with the connection, and sends the request headers', async () => {
    let seen = '';
    const url = await serve((path, res) => {
      seen = path;
      res.end('x');
    });
    const raw = Buffer.from('HTTP/1.0 503 Service Unavailable\r\nServer: t\r\n\r\nnot now');
    const got = await readBody(await serveRaw(raw, 2));
    expect(got.status).toBe(503);
    expect(got.headers.get('server')).toBe('t');
    expect(got.body.toString()).toBe('not now');
    await readBody(new URL('/a?b=c', url));
    expect(seen).toBe('/a?b=c');
  });

  it('fails when the connection ends before the body does', async () => {
    const raw = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    await expect(readBody(await serveRaw(raw, 100))).rejects.toThrow(BlockGetError);
    const chunked = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel');
    await expect(readBody(await serveRaw(chunked, 100))).rejects.toThrow(/before the end/);
    const bad = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    await expect(readBody(await serveRaw(bad, 100))).rejects.toThrow(/chunk size/);
  });

  it('keeps up with a slow reader without losing or reordering bytes', async () => {
    const big = Buffer.concat(Array.from({ length: 40 }, () => data));
    const url = await serve((_, res) => {
      res.setHeader('content-length', big.length);
      res.end(big);
    });
    const r = await getInBlocks(url, { ...opts, block: 64 * 1024 });
    const views: Buffer[] = [];
    const blocks = new Set<ArrayBufferLike>();
    let prev: Buffer | null = null;
    for await (const v of r.body) {
      // Slower than the socket: the reader pauses it once enough blocks wait.
      await new Promise((res) => setTimeout(res, 1));
      // The view before stays as it was until the one after this is asked for, however much the
      // socket reads meanwhile (a store writes one view while the next is checked).
      if (prev !== null) expect(prev.equals(views.at(-1)!)).toBe(true);
      views.push(Buffer.from(v));
      blocks.add(v.buffer);
      prev = v;
    }
    expect(Buffer.concat(views).equals(big)).toBe(true);
    // The blocks are read into again once the consumer is done with them: at most the queue's
    // worth, the one being filled and the two lent are in use at a time.
    expect(views.length).toBeGreaterThan(60);
    expect(blocks.size).toBeLessThanOrEqual(12);
  });

  it('fails with the idle error when the server stops sending', async () => {
    const raw = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    const url = await serveRaw(raw, 100, false);
    const r = await getInBlocks(url, { ...opts, idleMs: 100 });
    await expect(
      (async () => {
        for await (const v of r.body) void v;
      })(),
    ).rejects.toThrow('idle');
  });
});
