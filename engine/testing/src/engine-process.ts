// Runs `veloz engine` as a real child process on a free port, for crash and process tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const VELOZ_BIN = fileURLToPath(new URL('../../cli/bin/veloz.js', import.meta.url));

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
  output(): string;
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
  const child = spawn(process.execPath, [VELOZ_BIN, 'engine', '--port', String(port), '--host', host], {
    // Self-fencing off unless a test turns it on: a test runner inside a pod (CI) has
    // KUBERNETES_SERVICE_HOST but no Lease for these engines.
    env: { ...process.env, VELOZ_LOG_LEVEL: 'warn', VELOZ_LEASE: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`engine exited with ${child.exitCode}:\n${out}`);
    try {
      const res = await fetch(`${url}/ready`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`engine not ready after ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    child,
    output: () => out,
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}
