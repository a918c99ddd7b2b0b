// A throw-away PostgreSQL server from Debian's packages for tests and benchmarks: its own data
// directory and port on loopback, started and stopped by the caller.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './engine-process.ts';

export interface Postgres {
  url: string;
  port: number;
  stop(): Promise<void>;
}

async function findBinDir(): Promise<string> {
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  const fromPath = which.stdout.trim();
  if (which.status === 0 && fromPath) {
    const real = spawnSync('readlink', ['-f', fromPath], { encoding: 'utf8' }).stdout.trim();
    return real.replace(/\/initdb$/, '');
  }
  const versions = await readdir('/usr/lib/postgresql').catch(() => [] as string[]);
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (newest) return `/usr/lib/postgresql/${newest}/bin`;
  if (process.getuid?.() === 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], {
      stdio: 'inherit',
    });
    if (r.status === 0) return findBinDir();
  }
  throw new Error(
    'PostgreSQL server binaries (initdb, postgres) not found: install the Debian package "postgresql"',
  );
}

/** PostgreSQL refuses to run as root: run it as the postgres user when we are root. */
function account(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (id.status !== 0)
    throw new Error('running as root needs a "postgres" system user (Debian package postgresql creates it)');
  return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export async function startPostgres(settings: Record<string, string> = {}): Promise<Postgres> {
  const bin = await findBinDir();
  const user = account();
  const dir = await mkdtemp(join(tmpdir(), 'veloz-pg-'));
  if (user) await chown(dir, user.uid, user.gid);
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', dir, '-U', 'veloz', '--auth=trust', '-E', 'UTF8', '--no-sync'],
    {
      encoding: 'utf8',
      ...user,
    },
  );
  if (init.status !== 0) throw new Error(`initdb failed:\n${init.stderr}`);
  const port = await freePort();
  const args = [
    '-D',
    dir,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'max_connections=300',
  ];
  for (const [k, v] of Object.entries({ fsync: 'on', synchronous_commit: 'on', ...settings }))
    args.push('-c', `${k}=${v}`);
  const child: ChildProcess = spawn(join(bin, 'postgres'), args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...user,
  });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const url = `postgres://veloz@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.end();
      break;
    } catch {
      await c.end().catch(() => undefined);
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        await rm(dir, { recursive: true, force: true });
        throw new Error(`PostgreSQL did not start:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    port,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGINT');
        await once(child, 'exit');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
