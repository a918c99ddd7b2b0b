// Where a server meets its host and port settings for the first time. A host name that does not
// resolve, an address no interface has, or a port that is taken is a fault of that setting: the
// process reports it as such (and stops) instead of printing a bare errno and running on.
import { lookup } from 'node:dns/promises';

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;

/** Why `host` cannot be listened on because it does not resolve, or undefined when it does. */
export async function unresolvableHost(host: string): Promise<string | undefined> {
  try {
    await lookup(host);
    return undefined;
  } catch (err) {
    return `${errno(err) ?? 'lookup failed'}: the name does not resolve to an address`;
  }
}

export interface ListenAt {
  host: string;
  port: number;
  /** The flags that set them, when flags did (named in the message). */
  hostFlag?: string | undefined;
  portFlag?: string | undefined;
}

export interface ListenProblem {
  /** The setting at fault, its value, the flag that set it, what it should be and why it is not. */
  setting: 'host' | 'port';
  value: string;
  flag: string | undefined;
  expected: string;
  why: string;
}

/** The setting a failed listen() is the fault of; undefined for failures of another kind. */
export function listenProblem(err: unknown, at: ListenAt): ListenProblem | undefined {
  const host = (why: string): ListenProblem => ({
    setting: 'host',
    value: at.host,
    flag: at.hostFlag,
    expected: 'an address of this host to listen on',
    why,
  });
  const port = (why: string): ListenProblem => ({
    setting: 'port',
    value: String(at.port),
    flag: at.portFlag,
    expected: 'a port free to listen on',
    why,
  });
  const code = errno(err);
  switch (code) {
    case 'EADDRINUSE':
      return port(`EADDRINUSE: another process listens on ${at.host}:${at.port}`);
    case 'EACCES':
      return port(`EACCES: no permission to listen on port ${at.port}`);
    case 'EADDRNOTAVAIL':
      return host('EADDRNOTAVAIL: no network interface of this host has that address');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
    case 'ENODATA':
      return host(`${code}: the name does not resolve to an address`);
    default:
      return undefined;
  }
}
