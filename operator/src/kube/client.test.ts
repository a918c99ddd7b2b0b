import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient, retryable } from './client.ts';
import { RESOURCES } from './resources.ts';

const errno = (code: string) => Object.assign(new Error(code), { code });

describe('retryable', () => {
  it('retries a refused connection for every verb, a broken one only for idempotent requests', () => {
    expect(retryable(errno('ECONNREFUSED'), 'POST')).toBe(true);
    expect(retryable(errno('ECONNRESET'), 'PATCH')).toBe(true);
    expect(retryable(new Error('socket hang up'), 'GET')).toBe(true);
    expect(retryable(errno('ECONNRESET'), 'POST')).toBe(false);
    expect(retryable(errno('ETIMEDOUT'), 'GET')).toBe(false);
    expect(retryable(new Error('GET /x timed out after 5 ms'), 'GET')).toBe(false);
  });
});

describe('KubeClient', () => {
  let server: http.Server | undefined;
  afterEach(() => void server?.close());

  it('retries a request whose connection is refused until the API server listens', async () => {
    // Take a free port, release it, and start listening on it only after the first attempt.
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const client = new KubeClient({
      server: new URL(`http://127.0.0.1:${port}`),
      tls: {},
      authorize: async () => {},
    });
    const codes: number[] = [];
    client.observe((_verb, _kind, code) => codes.push(code));
    setTimeout(() => {
      server = http.createServer((_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ kind: 'ConfigMap', metadata: { name: 'c' } }));
      });
      server.listen(port, '127.0.0.1');
    }, 50);
    const got = await client.get(RESOURCES.configMap, 'ns', 'c');
    client.close();
    expect(got.metadata?.name).toBe('c');
    expect(codes[0]).toBe(0);
    expect(codes.at(-1)).toBe(200);
  });

  it('lists page by page, keeping what `each` makes of every item as its page arrives', async () => {
    const pages = [
      { metadata: { resourceVersion: '5', continue: 'p2' }, items: [{ metadata: { name: 'a' } }] },
      { metadata: { resourceVersion: '5' }, items: [{ metadata: { name: 'b' } }] },
    ];
    const served: string[] = [];
    server = http.createServer((req, res) => {
      served.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(pages[served.length - 1]));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const client = new KubeClient({
      server: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
      tls: {},
      authorize: async () => {},
    });
    const seen: string[] = [];
    const listed = await client.list(RESOURCES.configMap, 'ns', undefined, undefined, {
      each: (o) => {
        // Each item is made as its page arrives: before the next page is asked for.
        seen.push(`${o.kind}/${o.metadata?.name} after ${served.length} page(s)`);
        return { metadata: { name: o.metadata?.name?.toUpperCase() } };
      },
    });
    client.close();
    expect(seen).toEqual(['ConfigMap/a after 1 page(s)', 'ConfigMap/b after 2 page(s)']);
    expect(listed).toEqual({
      items: [{ metadata: { name: 'A' } }, { metadata: { name: 'B' } }],
      resourceVersion: '5',
    });
  });
});
