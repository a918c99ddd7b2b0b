import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '@veloz/testing/fake-clock';
import { FakeLeaseApi } from '@veloz/testing/fake-lease-api';
import { LeaseFence, microTime, type RenewFailure } from './lease-fence.ts';

const DURATION = 15_000;
const RENEW = 5_000;

function setup(holder = 'engine-0_uid-1', api = new FakeLeaseApi()) {
  const clock = new FakeClock();
  const events: Array<boolean | RenewFailure> = [];
  const fence = new LeaseFence({
    api,
    name: 'desk-engine-0',
    holder,
    durationMs: DURATION,
    renewMs: RENEW,
    clock,
    log: pino({ level: 'silent' }),
    hooks: { onFenced: (f) => events.push(f), onRenewFailure: (k) => events.push(k) },
  });
  return { api, clock, fence, events };
}

describe('self-fencing on a Lease', () => {
  it('is fenced until it holds the Lease, then creates and renews it', async () => {
    const { api, clock, fence, events } = setup();
    expect(fence.fenced()).toMatch(/does not hold its Lease desk-engine-0/);
    fence.start();
    await clock.advance(10);
    expect(fence.fenced()).toBeUndefined();
    expect(api.lease?.spec.holderIdentity).toBe('engine-0_uid-1');
    const first = api.lease?.spec.renewTime;
    expect(first).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    await clock.advance(RENEW);
    expect(api.lease?.spec.renewTime).not.toBe(first);
    expect(events).toEqual([true, false]);
    await fence.close();
  });

  it('stops new orders once it could not renew for the lease duration, and resumes by itself', async () => {
    const { api, clock, fence, events } = setup();
    fence.start();
    await clock.advance(10);
    api.down = 'connect ECONNREFUSED 10.96.0.1:443';
    // Renewals fail, but the Lease it renewed last is still its own for the duration.
    await clock.advance(DURATION - RENEW);
    expect(fence.fenced()).toBeUndefined();
    await clock.advance(RENEW + 100);
    expect(fence.fenced()).toMatch(/could not renew its Lease desk-engine-0 .*ECONNREFUSED/);
    expect(events.filter((e) => e === 'unreachable').length).toBeGreaterThanOrEqual(3);
    expect(events.filter((e) => typeof e === 'boolean')).toEqual([true, false, true]);
    api.down = undefined;
    await clock.advance(RENEW + 100);
    expect(fence.fenced()).toBeUndefined();
    expect(events.at(-1)).toBe(false);
    await fence.close();
  });

  it('is fenced exactly one lease duration after its last renewal', async () => {
    const { api, clock, fence } = setup();
    await fence.renew();
    const renewedAt = clock.now();
    api.down = 'timeout';
    await clock.advance(DURATION - 1, 1000);
    expect(fence.fenced()).toBeUndefined();
    await clock.advance(1, 1);
    expect(clock.now() - renewedAt).toBe(DURATION);
    expect(fence.fenced()).toBeDefined();
  });

  it('is fenced at once when another holder takes the Lease, and takes it back only once it expires', async () => {
    const { api, clock, fence } = setup();
    fence.start();
    await clock.advance(10);
    api.takeBy('engine-0_uid-2', microTime(clock.now()));
    await clock.advance(RENEW);
    expect(fence.fenced()).toMatch(/held by engine-0_uid-2/);
    // The other holder stops renewing: a whole duration from when this one saw its last renewal.
    await clock.advance(DURATION - RENEW - 200);
    expect(api.lease?.spec.holderIdentity).toBe('engine-0_uid-2');
    await clock.advance(RENEW + 400);
    expect(api.lease?.spec.holderIdentity).toBe('engine-0_uid-1');
    expect(api.lease?.spec.leaseTransitions).toBe(1);
    expect(fence.fenced()).toBeUndefined();
    await fence.close();
  });

  it('waits out a Lease another holder renews, and takes one released on shutdown at once', async () => {
    const api = new FakeLeaseApi();
    const a = setup('pod_a', api);
    a.fence.start();
    await a.clock.advance(10);
    const b = setup('pod_b', api);
    b.fence.start();
    await b.clock.advance(10);
    expect(b.fence.fenced()).toMatch(/held by pod_a/);
    await a.fence.close();
    expect(api.lease?.spec.holderIdentity).toBeNull();
    await b.clock.advance(RENEW);
    expect(b.fence.fenced()).toBeUndefined();
    expect(api.lease?.spec.holderIdentity).toBe('pod_b');
    await b.fence.close();
  });
});
