// Real `veloz` processes for integration tests and benchmarks: spawned, ready once a URL answers,
// stopped with a signal. startEngineProcess (engine-process.ts) is this for an engine on a free port.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const VELOZ_BIN = fileURLToPath(new URL('../../cli/bin/veloz.js', import.meta.url));

export interface Proc {
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Spawns `veloz ...args` and waits until `url` answers with one of `okStatuses`; `url` may be a
 * function giving the status (an HTTPS server whose certificate fetch() does not trust).
 */
export async function startVeloz(
  args: string[],
  env: Record<string, string>,
  url: string | (() => Promise<number>),
  okStatuses = [200],
  // Generous: on a loaded 2-core machine loading the CLI alone has taken over 20 s.
  timeoutMs = 120_000,
  nodeArgs: string[] = [],
): Promise<Proc> {
  const child = spawn(process.execPath, [...nodeArgs, VELOZ_BIN, ...args], {
    env: { ...process.env, VELOZ_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`veloz ${args[0]} exited with ${child.exitCode}:\n${out}`);
    try {
      let status: number;
      if (typeof url === 'string') {
        const res = await fetch(url);
        await res.arrayBuffer();
        status = res.status;
      } else status = await url();
      if (okStatuses.includes(status)) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`veloz ${args[0]} not ready after ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit') as Promise<[number | null]>;
      child.kill(signal);
      const [code] = await exited;
      return code;
    },
  };
}
