import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '@veloz/testing/fake-clock';
import { LeaderElector, type LeaseRecord, type LeaseStore } from './leader-election.ts';

class MemoryLease implements LeaseStore {
  rec: LeaseRecord | undefined;
  rv = 0;
  failing = new Set<string>();
  current = '';

  async get() {
    if (this.failing.has(this.current)) throw new Error('api server unreachable');
    return this.rec && { ...this.rec };
  }
  async create(rec: LeaseRecord) {
    if (this.rec) throw new Error('409 AlreadyExists');
    this.rec = { ...rec, resourceVersion: String(++this.rv) };
    return { ...this.rec };
  }
  async update(rec: LeaseRecord) {
    if (this.failing.has(this.current)) throw new Error('api server unreachable');
    if (rec.resourceVersion !== this.rec?.resourceVersion) throw new Error('409 Conflict');
    this.rec = { ...rec, resourceVersion: String(++this.rv) };
    return { ...this.rec };
  }
}

/** Each candidate sees the store through a view that can be cut off alone. */
function view(store: MemoryLease, id: string): LeaseStore {
  return {
    get: () => ((store.current = id), store.get()),
    create: (r) => ((store.current = id), store.create(r)),
    update: (r) => ((store.current = id), store.update(r)),
  };
}

function candidate(store: MemoryLease, id: string, clock: FakeClock, leading: Set<string>) {
  const ctrl = new AbortController();
  const el = new LeaderElector({
    store: view(store, id),
    identity: id,
    clock,
    log: pino({ level: 'silent' }),
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    onStartedLeading: () => leading.add(id),
    onStoppedLeading: () => leading.delete(id),
  });
  const done = el.run(ctrl.signal);
  return { el, stop: async () => (ctrl.abort(), await done) };
}

describe('LeaderElector', () => {
  it('elects exactly one of two candidates and keeps it while it renews', async () => {
    const clock = new FakeClock();
    const store = new MemoryLease();
    const leading = new Set<string>();
    const a = candidate(store, 'a', clock, leading);
    const b = candidate(store, 'b', clock, leading);
    await clock.advance(60_000);
    expect(leading.size).toBe(1);
    expect(store.rec?.holderIdentity).toBe([...leading][0]);
    await a.stop();
    await b.stop();
  });

  it('fails over after the leader disappears, within lease duration plus one retry period', async () => {
    const clock = new FakeClock();
    const store = new MemoryLease();
    const leading = new Set<string>();
    const a = candidate(store, 'a', clock, leading);
    await clock.advance(1_000);
    expect([...leading]).toEqual(['a']);
    const b = candidate(store, 'b', clock, leading);
    await clock.advance(4_000);
    // "a" is killed: it neither renews nor releases.
    store.failing.add('a');
    leading.delete('a');
    const killedAt = clock.now();
    let tookOver = 0;
    while (!leading.has('b')) {
      await clock.advance(500);
      tookOver = clock.now() - killedAt;
      if (tookOver > 60_000) break;
    }
    expect(leading.has('b')).toBe(true);
    expect(tookOver).toBeLessThanOrEqual(15_000 + 2_000 + 2_000);
    await a.stop();
    await b.stop();
  });

  it('steps down when it cannot renew before renewDeadline, before the lease expires', async () => {
    const clock = new FakeClock();
    const store = new MemoryLease();
    const leading = new Set<string>();
    const a = candidate(store, 'a', clock, leading);
    await clock.advance(1_000);
    expect(leading.has('a')).toBe(true);
    const lastRenew = Date.parse(store.rec!.renewTime);
    store.failing.add('a');
    while (leading.has('a')) await clock.advance(500);
    expect(clock.now() - lastRenew).toBeLessThan(15_000);
    await a.stop();
  });

  it('releases the lease on shutdown so a standby takes over at once', async () => {
    const clock = new FakeClock();
    const store = new MemoryLease();
    const leading = new Set<string>();
    const a = candidate(store, 'a', clock, leading);
    await clock.advance(1_000);
    const b = candidate(store, 'b', clock, leading);
    await clock.advance(1_000);
    await a.stop();
    expect(store.rec?.holderIdentity).toBe('');
    await clock.advance(3_000);
    expect(leading.has('b')).toBe(true);
    await b.stop();
  });
});
