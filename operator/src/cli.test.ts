import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { runUntilSignalled } from './cli.ts';

function setup(stop: () => Promise<void>) {
  const lines: Array<{ msg: string; level: number }> = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as never) });
  let fail: (err: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  let stops = 0;
  const op = {
    failed,
    stop: () => {
      stops++;
      return stop();
    },
  };
  const signals = new EventEmitter();
  return { run: () => runUntilSignalled(op, log, signals), signals, fail, lines, stops: () => stops };
}

describe('runUntilSignalled', () => {
  it('stops the operator on SIGTERM and exits 0, once however many signals come', async () => {
    const t = setup(async () => undefined);
    const code = t.run();
    t.signals.emit('SIGTERM', 'SIGTERM');
    t.signals.emit('SIGINT', 'SIGINT');
    expect(await code).toBe(0);
    expect(t.stops()).toBe(1);
  });

  it('logs a shutdown that fails and exits non-zero', async () => {
    const t = setup(async () => {
      throw new Error('could not release the lease');
    });
    const code = t.run();
    t.signals.emit('SIGINT', 'SIGINT');
    expect(await code).toBe(1);
    expect(t.lines.find((l) => l.msg === 'shutdown failed')).toMatchObject({ level: 50 });
  });

  it('stops, logs and exits non-zero when the operator cannot go on (a leadership change failed)', async () => {
    const t = setup(async () => undefined);
    const code = t.run();
    t.fail(new Error('controllers would not stop after leadership was lost'));
    expect(await code).toBe(1);
    expect(t.stops()).toBe(1);
    expect(t.lines.find((l) => l.msg === 'the operator cannot go on; shutting down')).toMatchObject({
      level: 50,
    });
  });
});
