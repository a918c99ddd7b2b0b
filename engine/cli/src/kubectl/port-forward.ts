// `kubectl veloz port-forward`: a local HTTP listener that passes each request through the API
// server's pod proxy to one gateway (or engine) pod, streaming both ways, so the event stream
// (SSE) works too. Only HTTP: that is all a gateway or engine serves. The API server strips the
// Authorization header, so clients send the API key as X-API-Key.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Connection } from '@veloz/operator/kube/kubeconfig';

/** Hop-by-hop and credential headers that must not travel to the API server as the client's. */
const DROP = new Set(['host', 'connection', 'keep-alive', 'authorization', 'proxy-authorization', 'upgrade']);

export interface PortForward {
  port: number;
  close(): Promise<void>;
}

export async function startPortForward(
  conn: Connection,
  target: { namespace: string; pod: string; port: number },
  opts: { address?: string; localPort?: number; headers?: Record<string, string> } = {},
): Promise<PortForward> {
  const base = `/api/v1/namespaces/${target.namespace}/pods/${target.pod}:${target.port}/proxy`;
  const mod = conn.server.protocol === 'https:' ? https : http;
  const agent =
    conn.server.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, ...conn.tls })
      : new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    void (async () => {
      const headers: Record<string, string | string[]> = { ...opts.headers };
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !DROP.has(k)) headers[k] = v;
      const up: https.RequestOptions = {
        method: req.method ?? 'GET',
        protocol: conn.server.protocol,
        hostname: conn.server.hostname,
        port: conn.server.port,
        path: base + (req.url ?? '/'),
        agent,
        headers,
      };
      await conn.authorize(up);
      const out = mod.request(up, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      });
      out.on('error', (err) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `through the API server to ${target.pod}: ${err.message}` }));
      });
      req.pipe(out);
    })().catch((err: unknown) => {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.localPort ?? 8080, opts.address ?? '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}
