import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { KubeconfigError, loadConnection } from './kubeconfig.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'veloz-kubeconfig-'));
  await writeFile(join(dir, 'ca.crt'), 'CA-FROM-FILE');
  await writeFile(join(dir, 'token'), 'token-from-file\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function write(
  user: Record<string, unknown>,
  cluster: Record<string, unknown> = {},
  context = 'c',
): Promise<string> {
  const path = join(dir, `config-${Math.random()}`);
  await writeFile(
    path,
    stringify({
      'current-context': context,
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
      clusters: [{ name: 'k', cluster: { server: 'https://127.0.0.1:6443', ...cluster } }],
      users: [{ name: 'u', user }],
    }),
  );
  return path;
}

async function headers(path: string): Promise<Record<string, unknown>> {
  const req: https.RequestOptions = { headers: {} };
  await loadConnection(path).authorize(req);
  return req.headers as Record<string, unknown>;
}

describe('loadConnection', () => {
  it('uses another context when asked (--context), with the namespace it names', async () => {
    const path = join(dir, 'two-contexts');
    await writeFile(
      path,
      stringify({
        'current-context': 'a',
        contexts: [
          { name: 'a', context: { cluster: 'ka', user: 'u' } },
          { name: 'b', context: { cluster: 'kb', user: 'u', namespace: 'desks' } },
        ],
        clusters: [
          { name: 'ka', cluster: { server: 'https://10.0.0.1:6443' } },
          { name: 'kb', cluster: { server: 'https://10.0.0.2:6443' } },
        ],
        users: [{ name: 'u', user: { token: 't' } }],
      }),
    );
    const a = loadConnection(path);
    expect(a.server.host).toBe('10.0.0.1:6443');
    expect(a.namespace).toBeUndefined();
    const b = loadConnection(path, 'b');
    expect(b.server.host).toBe('10.0.0.2:6443');
    expect(b.namespace).toBe('desks');
    expect(() => loadConnection(path, 'nope')).toThrow(/has no context "nope"/);
  });

  it('reads a bearer token and an inline CA', async () => {
    const path = await write(
      { token: 'abc' },
      { 'certificate-authority-data': Buffer.from('CA').toString('base64') },
    );
    const c = loadConnection(path);
    expect(c.server.href).toBe('https://127.0.0.1:6443/');
    expect(c.tls.ca?.toString()).toBe('CA');
    expect(await headers(path)).toEqual({ authorization: 'Bearer abc' });
  });

  it('reads client certificates, a CA file relative to the kubeconfig, and a token file', async () => {
    const path = await write(
      {
        'client-certificate-data': Buffer.from('CERT').toString('base64'),
        'client-key-data': Buffer.from('KEY').toString('base64'),
      },
      { 'certificate-authority': 'ca.crt', 'insecure-skip-tls-verify': true },
    );
    const c = loadConnection(path);
    expect([c.tls.cert, c.tls.key, c.tls.ca].map((b) => (b as Buffer).toString())).toEqual([
      'CERT',
      'KEY',
      'CA-FROM-FILE',
    ]);
    expect(c.tls.rejectUnauthorized).toBe(false);
    expect(await headers(await write({ tokenFile: join(dir, 'token') }))).toEqual({
      authorization: 'Bearer token-from-file',
    });
  });

  it.each([
    [{ token: 'x' }, {}, 'missing', /no current context/],
    [{ token: 'x' }, { server: '' }, 'c', /has no server/],
  ])('names what is wrong (%j %j)', async (user, cluster, context, message) => {
    expect(() => loadConnection(join(dir, 'nope'))).toThrow(KubeconfigError);
    const path = await write(user, cluster, context);
    expect(() => loadConnection(path)).toThrow(message);
  });
});
