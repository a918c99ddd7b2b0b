import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { WhileLeading, type Runnable } from './while-leading.ts';

function setup(o: { stopFails?: boolean } = {}) {
  const calls: string[] = [];
  const lines: Array<{ msg: string }> = [];
  const fatal: unknown[] = [];
  let synced: () => void = () => undefined;
  const sync = new Promise<void>((r) => (synced = r));
  const work: Runnable = {
    start: () => void calls.push('start'),
    stop: async () => {
      calls.push('stop');
      if (o.stopFails) throw new Error('a reconcile would not end');
    },
  };
  const gate = new WhileLeading({
    work,
    synced: () => sync,
    log: pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as { msg: string }) }),
    onFatal: (err) => void fatal.push(err),
  });
  const settle = () => new Promise((r) => setTimeout(r, 10));
  return { gate, calls, lines, fatal, synced, settle };
}

describe('WhileLeading', () => {
  it('starts the work once leading and synced, and stops it (logged) when leadership is lost', async () => {
    const { gate, calls, lines, synced, settle } = setup();
    gate.lead();
    await settle();
    expect(calls).toEqual([]);
    synced();
    await settle();
    expect(calls).toEqual(['start']);
    gate.follow();
    await settle();
    expect(calls).toEqual(['start', 'stop']);
    expect(lines.map((l) => l.msg)).toContain('stopped reconciling: this replica no longer leads');
  });

  it('never starts the work twice, nor after leadership was lost before the caches synced', async () => {
    const { gate, calls, synced, settle } = setup();
    gate.lead();
    gate.follow();
    synced();
    await settle();
    expect(calls).toEqual([]);
    gate.lead();
    gate.lead();
    await settle();
    expect(calls).toEqual(['start']);
  });

  it('reports a failure to stop on leadership loss as fatal: the replica may still reconcile', async () => {
    const { gate, calls, fatal, synced, settle } = setup({ stopFails: true });
    synced();
    gate.lead();
    await settle();
    gate.follow();
    await settle();
    expect(calls).toEqual(['start', 'stop']);
    expect(fatal).toEqual([new Error('a reconcile would not end')]);
  });

  it('stops for good on shutdown: a failure to stop rejects, later leadership is ignored', async () => {
    const { gate, calls, synced, settle } = setup({ stopFails: true });
    synced();
    gate.lead();
    await settle();
    await expect(gate.stop()).rejects.toThrow('a reconcile would not end');
    gate.lead();
    await settle();
    expect(calls).toEqual(['start', 'stop']);
  });
});
