// The port-forward listener against a stand-in API server: each request goes to the pod proxy
// path with the kubeconfig's credential, the client's own Authorization never travels, and
// answers stream through as they come (the event stream).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startPortForward, type PortForward } from './port-forward.ts';

let api: http.Server | undefined;
let pf: PortForward | undefined;
afterEach(async () => {
  await pf?.close();
  await new Promise((r) => (api ? api.close(r) : r(undefined)));
});

describe('startPortForward', () => {
  it('passes requests through the pod proxy with the API server credential, streaming the answer', async () => {
    const seen: Array<{ method: string; url: string; auth: string; key: string; body: string }> = [];
    api = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          auth: req.headers.authorization ?? '',
          key: String(req.headers['x-api-key'] ?? ''),
          body,
        });
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: one\n\n');
        setTimeout(() => res.end('data: two\n\n'), 50);
      });
    });
    await new Promise<void>((r) => api!.listen(0, '127.0.0.1', r));
    const apiPort = (api.address() as AddressInfo).port;
    pf = await startPortForward(
      {
        server: new URL(`http://127.0.0.1:${apiPort}`),
        tls: {},
        authorize: async (req) => {
          req.headers = { ...req.headers, authorization: 'Bearer cluster-token' };
        },
      },
      { namespace: 'trading', pod: 'desk-gateway-1', port: 8080 },
      { localPort: 0 },
    );
    const res = await fetch(`http://127.0.0.1:${pf.port}/api/orders?x=1`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer not-for-the-api-server',
        'x-api-key': 'k',
        'content-type': 'application/json',
      },
      body: '{"a":1}',
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('data: one\n\ndata: two\n\n');
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/api/v1/namespaces/trading/pods/desk-gateway-1:8080/proxy/api/orders?x=1',
        auth: 'Bearer cluster-token',
        key: 'k',
        body: '{"a":1}',
      },
    ]);
  });

  it('answers 502 naming the pod when the API server cannot be reached', async () => {
    pf = await startPortForward(
      { server: new URL('http://127.0.0.1:1'), tls: {}, authorize: async () => {} },
      { namespace: 'trading', pod: 'desk-gateway-0', port: 8080 },
      { localPort: 0 },
    );
    const res = await fetch(`http://127.0.0.1:${pf.port}/health`);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: string }).error).toMatch(
      /through the API server to desk-gateway-0/,
    );
  });
});
