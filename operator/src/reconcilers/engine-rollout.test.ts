import { FakeClock } from '@veloz/testing/fake-clock';
import type { KubernetesObject as Desired } from '@veloz/render/render';
import { describe, expect, it } from 'vitest';
import { parseCalendar } from '@veloz/api/trading-calendar';
import type { CachedStatefulSet } from '../cache-transforms.ts';
import {
  RELEASED_TEMPLATE_LABEL,
  decideRollout,
  engineTemplateHash,
  holdEngineTemplate,
} from './engine-rollout.ts';

const nightly = { schedule: '0 22 * * *', duration: '1h', timeZone: 'UTC' };
const inWindow = { policy: 'InWindow' as const, windows: [nightly], flatSeconds: 60 };

describe('decideRollout', () => {
  it('holds a change until the window opens, naming its start, and releases it inside', async () => {
    const clock = new FakeClock(Date.parse('2026-12-04T21:00:00Z'));
    const at = () => ({ maintenance: inWindow, pending: true, forced: false, now: new Date(clock.now()) });
    const held = decideRollout(at());
    expect(held.release).toBe(false);
    expect(held.condition).toMatchObject({ status: 'True', reason: 'WaitingForWindow' });
    expect(held.condition.message).toContain('next maintenance window, at 2026-12-04T22:00:00.000Z');
    expect(held.condition.message).toContain('veloz.io/rollout-now=true');
    expect(held.recheckAt).toEqual(new Date('2026-12-04T22:00:00Z'));
    await clock.advance(3_600_000, 600_000);
    const open = decideRollout(at());
    expect(open.release).toBe(true);
    expect(open.condition).toMatchObject({ status: 'False', reason: 'Released' });
    expect(open.condition.message).toContain('maintenance window open until 2026-12-04T23:00:00.000Z');
  });

  it('releases at once without a pending change, with policy Immediate, or when forced', () => {
    const now = new Date('2026-12-04T12:00:00Z');
    expect(decideRollout({ maintenance: inWindow, pending: false, forced: false, now })).toMatchObject({
      release: true,
      condition: { status: 'False', reason: 'NoPendingChange' },
    });
    expect(decideRollout({ maintenance: undefined, pending: true, forced: false, now }).release).toBe(true);
    const forced = decideRollout({ maintenance: inWindow, pending: true, forced: true, now });
    expect(forced.release).toBe(true);
    expect(forced.condition.message).toContain('forced by annotation veloz.io/rollout-now');
  });

  it('fails closed on a window it cannot read, and says which', () => {
    const bad = { ...inWindow, windows: [{ ...nightly, timeZone: 'Mars/Base' }] };
    const d = decideRollout({ maintenance: bad, pending: true, forced: false, now: new Date() });
    expect(d.release).toBe(false);
    expect(d.condition).toMatchObject({ status: 'True', reason: 'InvalidWindow' });
    expect(d.condition.message).toContain('unknown time zone Mars/Base');
  });

  it('holds a change while the trading calendar has a session, and releases it at the close', async () => {
    const calendar = parseCalendar(
      'timeZone: America/New_York\nsessions: [{days: MON-FRI, open: "09:30", close: "16:00"}]\nholidays: [2026-12-07]',
    );
    const onCalendar = {
      policy: 'InWindow' as const,
      calendarRef: { name: 'nyse', key: 'calendar.yaml' },
      flatSeconds: 60,
    };
    // Friday 2026-12-04, 15:00 in New York: the session runs until 16:00 (21:00 UTC).
    const clock = new FakeClock(Date.parse('2026-12-04T20:00:00Z'));
    const at = () => ({
      maintenance: onCalendar,
      pending: true,
      forced: false,
      now: new Date(clock.now()),
      calendar: { calendar },
    });
    const held = decideRollout(at());
    expect(held.release).toBe(false);
    expect(held.condition.message).toContain('next maintenance window, at 2026-12-04T21:00:00.000Z');
    expect(held.recheckAt).toEqual(new Date('2026-12-04T21:00:00Z'));
    await clock.advance(3_600_000, 600_000);
    const open = decideRollout(at());
    expect(open.release).toBe(true);
    // Monday the 7th is a holiday: the market opens again on Tuesday.
    expect(open.condition.message).toContain('maintenance window open until 2026-12-08T14:30:00.000Z');
    // With cron windows too, either may release it.
    const both = { ...onCalendar, windows: [{ schedule: '0 17 * * FRI', duration: '1h', timeZone: 'UTC' }] };
    expect(decideRollout({ ...at(), maintenance: both, now: new Date('2026-12-04T17:30:00Z') }).release).toBe(
      true,
    );
  });

  it('fails closed on a trading calendar it cannot read, naming the ConfigMap', () => {
    const d = decideRollout({
      maintenance: {
        policy: 'InWindow',
        calendarRef: { name: 'nyse', key: 'calendar.yaml' },
        flatSeconds: 60,
      },
      pending: true,
      forced: false,
      now: new Date(),
      calendar: { error: 'trading calendar ConfigMap ns/nyse (spec.maintenance.calendarRef) not found' },
    });
    expect(d.release).toBe(false);
    expect(d.condition).toMatchObject({ status: 'True', reason: 'InvalidWindow' });
    expect(d.condition.message).toContain('ConfigMap ns/nyse (spec.maintenance.calendarRef) not found');
  });

  it('WhenFlat: waits until the engines have been flat for flatSeconds, inside a window when given', () => {
    const m = { policy: 'WhenFlat' as const, flatSeconds: 30, windows: [nightly] };
    const now = new Date('2026-12-04T22:10:00Z');
    const flatFor = (s: number) => new Date(now.getTime() - s * 1000);
    const base = { maintenance: m, pending: true, forced: false, now };
    expect(decideRollout(base).condition.reason).toBe('WaitingForFlat');
    const soon = decideRollout({ ...base, flatSince: flatFor(10) });
    expect(soon.release).toBe(false);
    expect(soon.recheckAt).toEqual(new Date(now.getTime() + 20_000));
    expect(decideRollout({ ...base, flatSince: flatFor(30) }).release).toBe(true);
    const outside = { ...base, now: new Date('2026-12-04T12:00:00Z'), flatSince: flatFor(3600) };
    expect(decideRollout(outside).condition.reason).toBe('WaitingForWindow');
  });
});

describe('holding the engine template', () => {
  const sts = (image: string, size: string): Desired => ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'desk-engine', labels: { app: 'x' } },
    spec: {
      replicas: 2,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      volumeClaimTemplates: [{ spec: { resources: { requests: { storage: size } } } }],
      template: { spec: { containers: [{ name: 'engine', image }] } },
    },
  });

  it('hashes what restarts an engine: its template and its WAL size', () => {
    const a = engineTemplateHash(sts('veloz:1', '1Gi'));
    expect(engineTemplateHash(sts('veloz:1', '1Gi'))).toBe(a);
    expect(engineTemplateHash(sts('veloz:2', '1Gi'))).not.toBe(a);
    expect(engineTemplateHash(sts('veloz:1', '2Gi'))).not.toBe(a);
  });

  it('keeps every ordinal on the current revision, the live WAL size and the released label', () => {
    const live = {
      spec: { volumeClaimTemplates: [{ spec: { resources: { requests: { storage: '1Gi' } } } }] },
    } as CachedStatefulSet;
    const held = holdEngineTemplate(sts('veloz:2', '2Gi'), live, 'abc') as ReturnType<typeof sts> & {
      spec: Record<string, unknown>;
    };
    expect(held.metadata.labels).toEqual({ app: 'x', [RELEASED_TEMPLATE_LABEL]: 'abc' });
    expect(held.spec['updateStrategy']).toEqual({ type: 'RollingUpdate', rollingUpdate: { partition: 2 } });
    expect(held.spec['volumeClaimTemplates']).toEqual([
      { spec: { resources: { requests: { storage: '1Gi' } } } },
    ]);
  });
});
