// Test support: takes a PostgreSQL server started by testing/postgres.ts down and brings it
// back on the same data directory and port, the way an outage looks to a client.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';

export interface PostgresOutage {
  /** Starts the server again (same directory, same port) and waits until it accepts connections. */
  restart(): Promise<void>;
  /** Stops a restarted server (call before the original handle's stop()). */
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Parses postmaster.opts: the binary and its arguments, each in double quotes. */
function parseOpts(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) out.push(m[1] ?? m[2]!);
  return out;
}

export async function takeDown(url: string): Promise<PostgresOutage> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const dir = (await c.query<{ d: string }>("SELECT current_setting('data_directory') AS d")).rows[0]!.d;
  await c.end();
  const pid = Number((await readFile(join(dir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const [bin, ...args] = parseOpts(await readFile(join(dir, 'postmaster.opts'), 'utf8'));
  // Fast shutdown: open connections are closed, as when the server goes away.
  process.kill(pid, 'SIGINT');
  for (let i = 0; alive(pid); i++) {
    if (i > 300) throw new Error(`PostgreSQL ${pid} did not stop`);
    await new Promise((r) => setTimeout(r, 20));
  }
  let child: ChildProcess | null = null;
  const user =
    process.getuid?.() === 0
      ? {
          uid: Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim()),
          gid: Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim()),
        }
      : {};
  return {
    restart: async () => {
      child = spawn(bin!, args, { stdio: ['ignore', 'ignore', 'ignore'], ...user });
      const deadline = Date.now() + 30_000;
      for (;;) {
        const probe = new pg.Client({ connectionString: url });
        try {
          await probe.connect();
          await probe.end();
          return;
        } catch {
          await probe.end().catch(() => undefined);
          if (child.exitCode !== null || Date.now() > deadline) throw new Error('PostgreSQL did not restart');
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
    stop: async () => {
      const ch = child;
      if (ch && ch.exitCode === null && ch.signalCode === null) {
        ch.kill('SIGINT');
        await once(ch, 'exit');
      }
    },
  };
}
