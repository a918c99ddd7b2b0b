import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Controller, TerminalError } from './controller.ts';
import { createOperatorMetrics } from './metrics.ts';

const log = pino({ level: 'silent' });
const until = async (pred: () => boolean) => {
  for (let i = 0; i < 500 && !pred(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('Controller', () => {
  it('runs one reconcile per key at a time, with bounded concurrency', async () => {
    let active = 0;
    let maxActive = 0;
    const perKey = new Map<string, number>();
    let maxPerKey = 0;
    let calls = 0;
    const c = new Controller(
      {
        kind: 'T',
        reconcile: async (key) => {
          calls++;
          active++;
          perKey.set(key, (perKey.get(key) ?? 0) + 1);
          maxActive = Math.max(maxActive, active);
          maxPerKey = Math.max(maxPerKey, perKey.get(key)!);
          await new Promise((r) => setTimeout(r, 10));
          perKey.set(key, perKey.get(key)! - 1);
          active--;
        },
      },
      { workers: 3, log, metrics: createOperatorMetrics() },
    );
    c.start();
    for (let i = 0; i < 50; i++) c.queue.add(`ns/k${i % 5}`);
    await until(() => c.queue.length === 0 && c.queue.inFlight === 0);
    await c.stop();
    expect(maxActive).toBeLessThanOrEqual(3);
    expect(maxPerKey).toBe(1);
    expect(calls).toBeLessThanOrEqual(10);
  });

  it('retries errors with backoff, does not retry terminal errors, and honours requeueAfter', async () => {
    const seen: string[] = [];
    const metrics = createOperatorMetrics();
    let failures = 2;
    const c = new Controller(
      {
        kind: 'T',
        reconcile: async (key) => {
          seen.push(key);
          if (key === 'ns/flaky' && failures-- > 0) throw new Error('conflict');
          if (key === 'ns/bad') throw new TerminalError('bad spec');
          if (key === 'ns/poll' && seen.filter((k) => k === key).length < 2) return { requeueAfterMs: 20 };
          return undefined;
        },
      },
      { workers: 2, log, metrics, baseDelayMs: 10, maxDelayMs: 50 },
    );
    c.start();
    c.queue.add('ns/flaky');
    c.queue.add('ns/bad');
    c.queue.add('ns/poll');
    await until(
      () =>
        seen.filter((k) => k === 'ns/flaky').length === 3 && seen.filter((k) => k === 'ns/poll').length === 2,
    );
    await new Promise((r) => setTimeout(r, 100));
    await c.stop();
    expect(seen.filter((k) => k === 'ns/flaky')).toHaveLength(3);
    expect(seen.filter((k) => k === 'ns/bad')).toHaveLength(1);
    expect(seen.filter((k) => k === 'ns/poll')).toHaveLength(2);
    const text = await metrics.registry.metrics();
    expect(text).toContain('veloz_operator_reconcile_total{kind="T",outcome="terminal"} 1');
    expect(text).toContain('veloz_operator_reconcile_total{kind="T",outcome="error"} 2');
  });

  it('drains in-flight reconciles on stop', async () => {
    let finished = false;
    const c = new Controller(
      {
        kind: 'T',
        reconcile: async () => {
          await new Promise((r) => setTimeout(r, 50));
          finished = true;
        },
      },
      { workers: 1, log, metrics: createOperatorMetrics() },
    );
    c.start();
    c.queue.add('ns/a');
    await new Promise((r) => setTimeout(r, 5));
    await c.stop();
    expect(finished).toBe(true);
  });
});
