// The gateway as a real process serving HTTPS from a directory laid out as a mounted Secret: it
// answers with that certificate, HTTP/2 to a client that offers it, picks up a rotated
// certificate without a restart and keeps the old one when the new files are broken; and its
// source allowlist refuses other addresses with 403 in front of a real engine.
import http2 from 'node:http2';
import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@veloz/testing/engine-process';
import { startVeloz, type Proc } from '@veloz/testing/gateway';
import { MountedSecretDir, selfSignedCertificate, type CertificatePair } from '@veloz/testing/tls';

const KEY = 'k-tls-0123456789abcdef';

const certA = selfSignedCertificate('gateway-a');
const certB = selfSignedCertificate('gateway-b');
const noOpenssl = [certA, certB].find((c): c is string => typeof c === 'string');

/** GET over HTTPS/1.1 trusting `ca`: the status and the fingerprint of the certificate served. */
function get(port: number, path: string, ca: string[], headers: Record<string, string> = {}) {
  return new Promise<{ status: number; fingerprint: string; body: string }>((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path, ca, headers, agent: false }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint, body }));
    });
    req.on('error', reject);
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const end = Date.now() + 10_000;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const fingerprintOf = (c: CertificatePair) => new X509Certificate(c.cert).fingerprint256;

describe.skipIf(noOpenssl !== undefined)(
  noOpenssl ? `gateway over HTTPS: SKIPPED, ${noOpenssl}` : 'gateway over HTTPS',
  () => {
    const a = certA as CertificatePair;
    const b = certB as CertificatePair;
    let secret: MountedSecretDir;
    let gateway: Proc;
    let port: number;

    beforeAll(async () => {
      secret = new MountedSecretDir({ 'tls.crt': a.cert, 'tls.key': a.key });
      port = await freePort();
      gateway = await startVeloz(
        ['gateway', '--port', String(port), '--host', '127.0.0.1', '--engine-url', 'http://127.0.0.1:9'],
        {
          VELOZ_API_KEY: KEY,
          VELOZ_LOG_LEVEL: 'info',
          VELOZ_GATEWAY_TLS_CERT_FILE: secret.path('tls.crt'),
          VELOZ_GATEWAY_TLS_KEY_FILE: secret.path('tls.key'),
        },
        async () => (await get(port, '/health', [a.cert])).status,
      );
    });
    afterAll(async () => {
      await gateway?.stop();
      secret?.remove();
    });

    it('answers over HTTPS with the certificate of the mounted Secret', async () => {
      const r = await get(port, '/health', [a.cert]);
      expect(r.status).toBe(200);
      expect(r.fingerprint).toBe(fingerprintOf(a));
      // Plain HTTP on the HTTPS port is not served.
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    });

    it('speaks HTTP/2 to a client that offers it, the API key still required', async () => {
      const session = http2.connect(`https://127.0.0.1:${port}`, { ca: [a.cert] });
      try {
        const ask = (path: string, headers: Record<string, string> = {}) =>
          new Promise<number>((resolve, reject) => {
            const req = session.request({ ':path': path, ...headers });
            req.on('response', (h) => resolve(Number(h[':status'])));
            req.on('error', reject);
            req.resume();
            req.end();
          });
        expect(await ask('/health')).toBe(200);
        expect(session.alpnProtocol).toBe('h2');
        expect(await ask('/api/orders_state')).toBe(401);
        // The event stream over an HTTP/2 stream (no connection-specific headers).
        const first = await new Promise<{ status: number; type: string; chunk: string }>(
          (resolve, reject) => {
            const req = session.request({ ':path': '/api/stream', 'x-api-key': KEY });
            req.on('response', (h) => {
              req.setEncoding('utf8');
              req.once('data', (chunk: string) => {
                resolve({ status: Number(h[':status']), type: String(h['content-type']), chunk });
                req.close();
              });
            });
            req.on('error', reject);
            req.end();
          },
        );
        expect(first).toEqual({ status: 200, type: 'text/event-stream', chunk: ': connected\n\n' });
      } finally {
        session.close();
      }
    });

    it('picks up a rotated certificate without a restart, and keeps it when the next files are broken', async () => {
      secret.update({ 'tls.crt': b.cert, 'tls.key': b.key });
      await until('the rotated certificate', async () => {
        const r = await get(port, '/health', [a.cert, b.cert]);
        return r.fingerprint === fingerprintOf(b) || undefined;
      });
      // A key that is not the certificate's: logged, and the working certificate stays.
      secret.update({ 'tls.crt': a.cert, 'tls.key': b.key });
      await until(
        'the error logged',
        () => gateway.output().includes('TLS certificate not reloaded') || undefined,
      );
      const r = await get(port, '/health', [a.cert, b.cert]);
      expect(r.fingerprint).toBe(fingerprintOf(b));
      expect(gateway.child.exitCode).toBeNull();
    });
  },
);

describe.skipIf(noOpenssl !== undefined)('gateway TLS start-up checks', () => {
  it('refuses to start with a key that is not the certificate’s, naming the files', async () => {
    const a = certA as CertificatePair;
    const b = certB as CertificatePair;
    const secret = new MountedSecretDir({ 'tls.crt': a.cert, 'tls.key': b.key });
    try {
      const port = await freePort();
      const err = await startVeloz(
        ['gateway', '--port', String(port), '--host', '127.0.0.1', '--engine-url', 'http://127.0.0.1:9'],
        {
          VELOZ_API_KEY: KEY,
          VELOZ_GATEWAY_TLS_CERT_FILE: secret.path('tls.crt'),
          VELOZ_GATEWAY_TLS_KEY_FILE: secret.path('tls.key'),
        },
        async () => 0,
        [200],
        // The process must exit on its own; the wait only bounds a start that never ends (a loaded
        // machine takes tens of seconds to load the CLI).
        120_000,
      ).catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain('exited with 2');
      expect((err as Error).message).toContain('VELOZ_GATEWAY_TLS_CERT_FILE=');
      expect((err as Error).message).toContain('is not the private key of');
    } finally {
      secret.remove();
    }
  });
});

describe('gateway source allowlist in front of a real engine', () => {
  let dir: string;
  let engine: Proc;
  const gateways: Proc[] = [];
  let enginePort: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'veloz-allowlist-'));
    enginePort = await freePort();
    engine = await startVeloz(
      ['engine', '--port', String(enginePort), '--host', '127.0.0.1'],
      { VELOZ_WAL_DIR: dir, VELOZ_WAL_SYNC: 'false', VELOZ_SIM_TICK_MS: '0' },
      `http://127.0.0.1:${enginePort}/ready`,
    );
  });
  afterAll(async () => {
    for (const g of gateways) await g.stop();
    await engine?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const gatewayAllowing = async (sources: string) => {
    const port = await freePort();
    const g = await startVeloz(
      [
        'gateway',
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--engine-url',
        `http://127.0.0.1:${enginePort}`,
      ],
      { VELOZ_API_KEY: KEY, VELOZ_GATEWAY_ALLOWED_SOURCES: sources },
      `http://127.0.0.1:${port}/ready`,
    );
    gateways.push(g);
    return `http://127.0.0.1:${port}`;
  };

  it('refuses a source outside the ranges with 403, before the key is looked at', async () => {
    const gw = await gatewayAllowing('10.0.0.0/8, 2001:db8::/32');
    const withKey = await fetch(`${gw}/api/orders_state`, { headers: { 'x-api-key': KEY } });
    expect(withKey.status).toBe(403);
    expect(await withKey.json()).toEqual({
      error: "source address 127.0.0.1 is not in the gateway's allowed source ranges",
      reason: 'SOURCE_NOT_ALLOWED',
    });
    expect((await fetch(`${gw}/api/orders_state`)).status).toBe(403);
    expect((await fetch(`${gw}/no/such/route`)).status).toBe(403);
    // Probes and scrapers are not clients: they still get answers.
    expect((await fetch(`${gw}/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${gw}/metrics`)).text();
    expect(metrics).toMatch(/^veloz_gateway_source_refusals_total 3$/m);
  });

  it('serves a source inside the ranges', async () => {
    const gw = await gatewayAllowing('10.0.0.0/8,127.0.0.0/30');
    const res = await fetch(`${gw}/api/orders_state`, { headers: { 'x-api-key': KEY } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ orders: [] });
    expect((await fetch(`${gw}/api/orders_state`)).status).toBe(401);
  });

  it('refuses to start with a malformed range, naming the variable', async () => {
    const port = await freePort();
    const err = await startVeloz(
      ['gateway', '--port', String(port), '--engine-url', `http://127.0.0.1:${enginePort}`],
      { VELOZ_API_KEY: KEY, VELOZ_GATEWAY_ALLOWED_SOURCES: '10.0.0.0/8,10.1.2.3' },
      `http://127.0.0.1:${port}/ready`,
    ).catch((e: unknown) => e as Error);
    expect((err as Error).message).toContain('exited with 2');
    expect((err as Error).message).toContain(
      'VELOZ_GATEWAY_ALLOWED_SOURCES="10.0.0.0/8,10.1.2.3" is invalid',
    );
    expect((err as Error).message).toContain('not a CIDR: 10.1.2.3');
  });
});
