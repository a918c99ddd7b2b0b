import { describe, expect, it } from 'vitest';
import { WorkQueue } from './work-queue.ts';

describe('WorkQueue', () => {
  it('de-duplicates keys that are waiting', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('never hands one key to two workers; a key added while processing comes back after done', async () => {
    const q = new WorkQueue();
    q.add('a');
    const k = await q.get();
    q.add('a');
    expect(q.length).toBe(0);
    let second: string | undefined;
    void q.get().then((x) => (second = x));
    await Promise.resolve();
    expect(second).toBeUndefined();
    q.done(k!);
    await Promise.resolve();
    expect(second).toBe('a');
  });

  it('backs off exponentially per key up to the cap, and forget resets it', () => {
    const q = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1000 });
    expect([1, 2, 3, 4, 5, 6].map(() => q.addRateLimited('a'))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(q.addRateLimited('b')).toBe(100);
    q.forget('a');
    expect(q.addRateLimited('a')).toBe(100);
    void q.shutDown();
  });

  it('requeues after a delay, keeping the earliest deadline', async () => {
    const q = new WorkQueue();
    q.addAfter('a', 50);
    q.addAfter('a', 10_000);
    const t = Date.now();
    expect(await q.get()).toBe('a');
    expect(Date.now() - t).toBeLessThan(5_000);
  });

  it('drains in-flight work on shutdown and then returns undefined', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    const k = await q.get();
    let drained = false;
    const s = q.shutDown().then(() => (drained = true));
    expect(await q.get()).toBeUndefined();
    await Promise.resolve();
    expect(drained).toBe(false);
    q.done(k!);
    await s;
    expect(drained).toBe(true);
    q.add('c');
    expect(q.length).toBe(0);
  });

  it('reports depth and wait time', async () => {
    const depths: number[] = [];
    const waits: number[] = [];
    const q = new WorkQueue({ onDepth: (d) => depths.push(d), onWait: (s) => waits.push(s) });
    q.add('a');
    q.add('b');
    await q.get();
    expect(depths).toEqual([1, 2, 1]);
    expect(waits).toHaveLength(1);
  });

  it('hands out urgent keys first, and an urgent add moves a waiting key up', async () => {
    const q = new WorkQueue();
    q.add('status-1');
    q.add('status-2');
    q.add('spec-1', 'urgent');
    q.add('status-2', 'urgent');
    q.add('spec-1');
    expect(q.length).toBe(3);
    expect([await q.get(), await q.get(), await q.get()]).toEqual(['spec-1', 'status-2', 'status-1']);
  });

  it('an urgent add while the key is processed queues it urgently when done', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    const k = await q.get();
    q.add('a', 'urgent');
    expect(q.length).toBe(1);
    q.done(k!);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });
});
