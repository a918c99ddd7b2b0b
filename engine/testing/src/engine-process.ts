// Runs `veloz engine` as a real child process on a free port, for crash and process tests.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { startVeloz, VELOZ_BIN } from './gateway.ts';

export { VELOZ_BIN };

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const addr = srv.address();
  srv.close();
  if (typeof addr !== 'object' || !addr) throw new Error('no port');
  return addr.port;
}

export interface EngineProcess {
  url: string;
  child: ChildProcess;
  /** Its stdout and stderr so far, for failure messages. */
  output(): string;
  /** Sends `signal` unless it has exited, and resolves with its exit code once it has. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startEngineProcess(
  env: Record<string, string>,
  // Generous: on a shared 2-core machine at a load of 40-60 an engine on the fake Binance has
  // taken over 20 s to be ready; a failed start still says why as soon as the process exits.
  timeoutMs = 120_000,
  /** The listen address; `url` stays the loopback one. */
  host = '127.0.0.1',
): Promise<EngineProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = await startVeloz(
    ['engine', '--port', String(port), '--host', host],
    // Self-fencing off unless a test turns it on: a test runner inside a pod (CI) has
    // KUBERNETES_SERVICE_HOST but no Lease for these engines.
    { VELOZ_LEASE: 'false', ...env },
    `${url}/ready`,
    [200],
    timeoutMs,
  );
  return {
    url,
    child: proc.child,
    output: () => proc.output(),
    kill: (signal = 'SIGKILL') => proc.stop(signal),
  };
}
