// Which setting a failed listen() is the fault of.
import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { listenProblem, unresolvableHost } from './listen.ts';

/** The error a real listen() gives. */
async function listenError(port: number, host: string): Promise<unknown> {
  const srv = createServer();
  srv.listen(port, host);
  const [err] = (await once(srv, 'error')) as [unknown];
  return err;
}

describe('listenProblem', () => {
  it('blames the port when another process holds it, naming the flag that set it', async () => {
    const holder = createServer().listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const port = (holder.address() as { port: number }).port;
    const err = await listenError(port, '127.0.0.1');
    holder.close();
    expect(listenProblem(err, { host: '127.0.0.1', port, portFlag: '--port' })).toEqual({
      setting: 'port',
      value: String(port),
      flag: '--port',
      expected: 'a port free to listen on',
      why: `EADDRINUSE: another process listens on 127.0.0.1:${port}`,
    });
  });

  it('blames the host for an address no interface has, and for a name that does not resolve', async () => {
    const notHere = listenProblem(await listenError(0, '192.0.2.1'), { host: '192.0.2.1', port: 0 });
    expect(notHere).toMatchObject({ setting: 'host', value: '192.0.2.1', flag: undefined });
    expect(notHere?.why).toMatch(/^EADDRNOTAVAIL: /);
    const unknown = Object.assign(new Error('getaddrinfo ENOTFOUND x.invalid'), { code: 'ENOTFOUND' });
    expect(listenProblem(unknown, { host: 'x.invalid', port: 1, hostFlag: '--host' })).toMatchObject({
      setting: 'host',
      flag: '--host',
    });
  });

  it('leaves other failures alone', () => {
    expect(listenProblem(new Error('boom'), { host: 'h', port: 1 })).toBeUndefined();
  });
});

describe('unresolvableHost', () => {
  it('says why a name does not resolve; addresses always do', async () => {
    expect(await unresolvableHost('no-such-host.invalid')).toMatch(/does not resolve/);
    expect(await unresolvableHost('0.0.0.0')).toBeUndefined();
    expect(await unresolvableHost('::')).toBeUndefined();
  });
});
