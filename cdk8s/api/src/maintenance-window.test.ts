import { FakeClock } from '@veloz/testing/fake-clock';
import { describe, expect, it } from 'vitest';
import { oneWindowState, windowDurationMs, windowState } from './maintenance-window.ts';

const at = (iso: string) => new FakeClock(Date.parse(iso));
const now = (c: FakeClock) => new Date(c.now());

describe('maintenance windows', () => {
  const weeknights = { schedule: '0 22 * * MON-FRI', duration: '2h', timeZone: 'UTC' };

  it('is closed before a window and names its start, open inside it, closed again after it', async () => {
    const clock = at('2026-12-04T21:59:00Z'); // a Friday
    expect(windowState([weeknights], now(clock))).toEqual({
      open: false,
      nextStart: new Date('2026-12-04T22:00:00Z'),
    });
    await clock.advance(60_000, 60_000);
    expect(windowState([weeknights], now(clock))).toEqual({
      open: true,
      closesAt: new Date('2026-12-05T00:00:00Z'),
    });
    await clock.advance(2 * 3_600_000 - 1, 3_600_000);
    expect(windowState([weeknights], now(clock)).open).toBe(true);
    await clock.advance(1, 1);
    // Saturday and Sunday have no window: the next one is Monday night.
    expect(windowState([weeknights], now(clock))).toEqual({
      open: false,
      nextStart: new Date('2026-12-07T22:00:00Z'),
    });
  });

  it('reads the schedule in its time zone, across a daylight saving change', () => {
    const ny = { schedule: '30 17 * * *', duration: '30m', timeZone: 'America/New_York' };
    // EST (UTC-5) in December, EDT (UTC-4) in July.
    expect(windowState([ny], new Date('2026-12-04T22:40:00Z')).open).toBe(true);
    expect(windowState([ny], new Date('2026-07-06T22:40:00Z')).open).toBe(false);
    expect(windowState([ny], new Date('2026-07-06T21:40:00Z')).open).toBe(true);
    // 2027-03-14: clocks go forward; the 17:30 window that day is at 21:30 UTC.
    expect(windowState([ny], new Date('2027-03-14T12:00:00Z')).nextStart).toEqual(
      new Date('2027-03-14T21:30:00Z'),
    );
  });

  it('is open when any window is, and otherwise names the earliest next start', () => {
    const daily = { schedule: '@daily', duration: '15m' };
    const t = new Date('2026-12-05T12:00:00Z');
    expect(windowState([weeknights, daily], t)).toEqual({
      open: false,
      nextStart: new Date('2026-12-06T00:00:00Z'),
    });
    expect(windowState([weeknights, daily], new Date('2026-12-04T23:50:00Z'))).toEqual({
      open: true,
      closesAt: new Date('2026-12-05T00:00:00Z'),
    });
    expect(windowState([], t)).toEqual({ open: false });
  });

  it('counts a window longer than the gap between its starts as open throughout', () => {
    const hourly = { schedule: '0 * * * *', duration: '3h' };
    expect(oneWindowState(hourly, new Date('2026-12-04T10:59:59Z'))).toEqual({
      open: true,
      closesAt: new Date('2026-12-04T13:00:00Z'),
    });
  });

  it('refuses what it cannot read, naming the window', () => {
    const t = new Date('2026-12-04T12:00:00Z');
    expect(() => oneWindowState({ schedule: '0 22 * *', duration: '1h' }, t)).toThrow(
      'maintenance window 0 22 * * for 1h (UTC): schedule must have five fields',
    );
    expect(() =>
      oneWindowState({ schedule: '0 22 * * *', duration: '1h', timeZone: 'Mars/Olympus' }, t),
    ).toThrow('unknown time zone Mars/Olympus');
    expect(() => oneWindowState({ schedule: '0 22 * * *', duration: '0m' }, t)).toThrow('duration must be');
  });

  it('reads durations as hours, minutes and seconds', () => {
    expect(windowDurationMs('2h')).toBe(7_200_000);
    expect(windowDurationMs('1h30m')).toBe(5_400_000);
    expect(windowDurationMs('45s')).toBe(45_000);
    for (const bad of ['', '0h', '30m2h', '1d', '5']) expect(windowDurationMs(bad)).toBeUndefined();
  });
});
