// Start-up failures of `veloz engine` and `veloz gateway` as an operator meets them: real
// processes, a port another process holds, names that do not resolve, WAL paths that are files
// or under /proc. Each must exit 2 with a message naming the variable (and the flag that set it),
// within a bounded time: a process that prints an errno and runs on, or never answers, fails.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VELOZ_BIN } from '@veloz/testing/engine-process';

/** Long enough for a slow start, far shorter than "keeps running". */
const BOUND_MS = 20_000;

interface Outcome {
  code: number | null;
  stderr: string;
  timedOut: boolean;
}

async function veloz(args: string[], env: Record<string, string>): Promise<Outcome> {
  const child = spawn(process.execPath, [VELOZ_BIN, ...args], {
    env: { ...process.env, VELOZ_LOG_LEVEL: 'warn', VELOZ_SIM_TICK_MS: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, BOUND_MS);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stderr, timedOut };
}

let root: string;
let file: string;
let taken: Server;
let takenPort: number;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'veloz-startup-'));
  file = join(root, 'a-file');
  await writeFile(file, 'not a directory\n');
  await mkdir(join(root, 'a-dir'));
  taken = createServer();
  taken.listen(0, '127.0.0.1');
  await once(taken, 'listening');
  takenPort = (taken.address() as { port: number }).port;
});

afterAll(async () => {
  taken.close();
  await rm(root, { recursive: true, force: true });
});

const wal = (name: string) => join(root, name);
const gatewayEnv = { VELOZ_API_KEY: 'k', VELOZ_GATEWAY_ENGINE_URL: 'http://127.0.0.1:9' };

interface Run {
  args: string[];
  env: Record<string, string>;
  messages: string[];
}
type Case = [string, () => Run];

const cases: Case[] = [
  [
    'engine: VELOZ_PORT held by another process',
    () => ({
      args: ['engine'],
      env: { VELOZ_HOST: '127.0.0.1', VELOZ_PORT: String(takenPort), VELOZ_WAL_DIR: wal('w1') },
      messages: [`VELOZ_PORT="${takenPort}" is invalid`, 'EADDRINUSE'],
    }),
  ],
  [
    'engine: --port held by another process',
    () => ({
      args: ['engine', '--host', '127.0.0.1', '--port', String(takenPort)],
      env: { VELOZ_WAL_DIR: wal('w2') },
      messages: [`VELOZ_PORT="${takenPort}" (set by --port) is invalid`, 'EADDRINUSE'],
    }),
  ],
  [
    'engine: VELOZ_HOST that does not resolve',
    () => ({
      args: ['engine', '--port', '0'],
      env: { VELOZ_HOST: 'no-such-host.invalid', VELOZ_WAL_DIR: wal('w3') },
      messages: ['VELOZ_HOST="no-such-host.invalid" is invalid', 'does not resolve'],
    }),
  ],
  [
    'engine: --host no interface has',
    () => ({
      args: ['engine', '--port', '0', '--host', '192.0.2.1'],
      env: { VELOZ_WAL_DIR: wal('w4') },
      messages: ['VELOZ_HOST="192.0.2.1" (set by --host) is invalid', 'EADDRNOTAVAIL'],
    }),
  ],
  [
    'engine: VELOZ_WAL_DIR is a file',
    () => ({
      args: ['engine', '--port', '0', '--host', '127.0.0.1'],
      env: { VELOZ_WAL_DIR: file },
      messages: [`VELOZ_WAL_DIR="${file}" is invalid`, 'not a directory'],
    }),
  ],
  [
    'engine: VELOZ_WAL_DIR below a file',
    () => ({
      args: ['engine', '--port', '0', '--host', '127.0.0.1'],
      env: { VELOZ_WAL_DIR: join(file, 'wal') },
      messages: [`VELOZ_WAL_DIR="${join(file, 'wal')}" is invalid`, 'ENOTDIR'],
    }),
  ],
  [
    'engine: VELOZ_WAL_DIR under /proc (fs.mkdir recursive never returns there)',
    () => ({
      args: ['engine', '--port', '0', '--host', '127.0.0.1'],
      env: { VELOZ_WAL_DIR: '/proc/veloz-wal' },
      messages: ['VELOZ_WAL_DIR="/proc/veloz-wal" is invalid', 'ENOENT'],
    }),
  ],
  [
    'engine --stdio: --wal-dir is a file',
    () => ({
      args: ['engine', '--stdio', '--wal-dir', file],
      env: {},
      messages: [`VELOZ_WAL_DIR="${file}" (set by --wal-dir) is invalid`],
    }),
  ],
  [
    'engine: VELOZ_WAL_POSTGRES_URI_FILE is a directory',
    () => ({
      args: ['engine', '--port', '0', '--host', '127.0.0.1'],
      env: { VELOZ_WAL_DIR: wal('w5'), VELOZ_WAL_POSTGRES_URI_FILE: join(root, 'a-dir') },
      messages: [`VELOZ_WAL_POSTGRES_URI_FILE="${join(root, 'a-dir')}" is invalid`, 'directory'],
    }),
  ],
  [
    'gateway: --port held by another process',
    () => ({
      args: ['gateway', '--host', '127.0.0.1', '--port', String(takenPort)],
      env: gatewayEnv,
      messages: [`VELOZ_PORT="${takenPort}" (set by --port) is invalid`, 'EADDRINUSE'],
    }),
  ],
  [
    'gateway: VELOZ_PORT held by another process',
    () => ({
      args: ['gateway'],
      env: { ...gatewayEnv, VELOZ_HOST: '127.0.0.1', VELOZ_PORT: String(takenPort) },
      messages: [`VELOZ_PORT="${takenPort}" is invalid`, 'EADDRINUSE'],
    }),
  ],
  [
    'gateway: VELOZ_HOST that does not resolve',
    () => ({
      args: ['gateway', '--port', '0'],
      env: { ...gatewayEnv, VELOZ_HOST: 'no-such-host.invalid' },
      messages: ['VELOZ_HOST="no-such-host.invalid" is invalid', 'does not resolve'],
    }),
  ],
  [
    'gateway --engine-stdio: --wal-dir under /proc',
    () => ({
      args: [
        'gateway',
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--engine-stdio',
        '--wal-dir',
        '/proc/veloz-wal',
      ],
      env: { VELOZ_API_KEY: 'k' },
      messages: ['VELOZ_WAL_DIR="/proc/veloz-wal" (set by --wal-dir) is invalid'],
    }),
  ],
];

describe('start-up failures exit 2 naming the variable, in bounded time', () => {
  it.each(cases)('%s', async (_, run) => {
    const { args, env, messages } = run();
    const r = await veloz(args, env);
    expect(r.timedOut, `still running after ${BOUND_MS} ms; stderr:\n${r.stderr}`).toBe(false);
    expect(r.code, r.stderr).toBe(2);
    for (const m of messages) expect(r.stderr).toContain(m);
    expect(r.stderr).toMatch(/^veloz (engine|gateway): invalid configuration:\n/m);
  });
});
