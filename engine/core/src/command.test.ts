// `veloz engine`'s shutdown: a failure to stop cleanly (the WAL's last sync, say) is logged and
// fails the command, so `veloz` exits non-zero instead of reporting a clean stop.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { engineCommand } from './command.ts';
import { Engine } from './engine/engine.ts';

interface LogLine {
  msg: string;
  level: number;
  signal?: string;
  err?: { message: string };
}

const captured = vi.hoisted(() => ({ lines: [] as LogLine[] }));
vi.mock('@veloz/common/logging', async () => {
  const { pino } = await import('pino');
  return {
    createLogger: () =>
      pino({ level: 'info' }, { write: (l: string) => void captured.lines.push(JSON.parse(l) as LogLine) }),
  };
});

const dirs: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** The SIGTERM handler the command registered (called directly: no signal reaches the runner). */
async function signalHandler(before: Set<unknown>): Promise<(signal: string) => void> {
  for (let i = 0; i < 500; i++) {
    if (captured.lines.some((l) => l.msg === 'engine listening')) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const added = process.listeners('SIGTERM').filter((l) => !before.has(l));
  expect(added).toHaveLength(1);
  return added[0]! as (signal: string) => void;
}

describe('veloz engine shutdown', () => {
  it('logs a failed shutdown and fails the command', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veloz-engine-command-'));
    dirs.push(dir);
    const close = vi.spyOn(Engine.prototype, 'close').mockImplementation(async function (this: Engine) {
      close.mockRestore();
      await this.close();
      throw new Error('fdatasync: input/output error');
    });
    const before = { term: new Set(process.listeners('SIGTERM')), int: new Set(process.listeners('SIGINT')) };
    const run = engineCommand(['--port', '0', '--host', '127.0.0.1', '--wal-dir', dir]);
    try {
      const onSignal = await signalHandler(before.term);
      onSignal('SIGTERM');
      await expect(run).rejects.toThrow('fdatasync: input/output error');
    } finally {
      for (const l of process.listeners('SIGTERM'))
        if (!before.term.has(l)) process.removeListener('SIGTERM', l);
      for (const l of process.listeners('SIGINT'))
        if (!before.int.has(l)) process.removeListener('SIGINT', l);
    }
    expect(captured.lines.find((l) => l.msg === 'shutdown failed')).toMatchObject({
      level: 50,
      signal: 'SIGTERM',
      err: { message: 'fdatasync: input/output error' },
    });
  });
});
