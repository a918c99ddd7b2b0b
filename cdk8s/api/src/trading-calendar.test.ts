import { describe, expect, it } from 'vitest';
import { FakeClock } from '@veloz/testing/fake-clock';
import { CalendarError, calendarState, parseCalendar } from './trading-calendar.ts';

const NYSE = parseCalendar(`
timeZone: America/New_York
sessions:
  - {days: MON-FRI, open: "09:30", close: "16:00"}
holidays: [2026-12-25, 2027-01-01]
`);

describe('trading calendar', () => {
  it('is closed (no maintenance) during a session, naming the session close as the next start', () => {
    // Friday 2026-12-04 12:00 New York (EST, UTC-5).
    expect(calendarState(NYSE, new Date('2026-12-04T17:00:00Z'))).toEqual({
      open: false,
      nextStart: new Date('2026-12-04T21:00:00Z'),
    });
  });

  it('is open over a weekend until Monday’s open, and across a holiday, as a fake clock moves', async () => {
    const clock = new FakeClock(Date.parse('2026-12-04T21:00:00Z')); // Friday 16:00: the close
    expect(calendarState(NYSE, new Date(clock.now()))).toEqual({
      open: true,
      closesAt: new Date('2026-12-07T14:30:00Z'),
    });
    await clock.advance(3 * 86_400_000 - 6.5 * 3_600_000, 86_400_000); // Monday 09:30
    expect(calendarState(NYSE, new Date(clock.now())).open).toBe(false);
    // Thursday 2026-12-24 after the close: Friday the 25th is a holiday, next open Monday the 28th.
    expect(calendarState(NYSE, new Date('2026-12-24T22:00:00Z'))).toEqual({
      open: true,
      closesAt: new Date('2026-12-28T14:30:00Z'),
    });
  });

  it('follows daylight saving time: 09:30 New York is 13:30 UTC in summer', () => {
    expect(calendarState(NYSE, new Date('2026-07-06T13:00:00Z'))).toEqual({
      open: true,
      closesAt: new Date('2026-07-06T13:30:00Z'),
    });
  });

  it('takes several sessions a day (a lunch break is a window)', () => {
    const tokyo = parseCalendar(
      '{"timeZone":"Asia/Tokyo","sessions":[{"days":"MON-FRI","open":"09:00","close":"11:30"},{"days":"MON-FRI","open":"12:30","close":"15:30"}]}',
    );
    // Monday 2026-12-07 11:45 Tokyo (UTC+9).
    expect(calendarState(tokyo, new Date('2026-12-07T02:45:00Z'))).toEqual({
      open: true,
      closesAt: new Date('2026-12-07T03:30:00Z'),
    });
  });

  it.each([
    [
      'timeZone: Mars/Base\nsessions: [{days: MON, open: "09:00", close: "10:00"}]',
      'calendar.timeZone: unknown time zone "Mars/Base"',
    ],
    ['timeZone: UTC', 'calendar.sessions must list at least one session'],
    [
      'sessions: [{days: MON-FRY, open: "09:00", close: "10:00"}]',
      'calendar.sessions[0].days: "MON-FRY" is not a weekday',
    ],
    [
      'sessions: [{days: MON, open: "9:00", close: "10:00"}]',
      'calendar.sessions[0].open must be a time of day HH:MM',
    ],
    [
      'sessions: [{days: MON, open: "10:00", close: "09:00"}]',
      'calendar.sessions[0]: close must be after open',
    ],
    [
      'sessions: [{days: MON, open: "09:00", close: "10:00"}]\nholidays: [2026-13-45]',
      'calendar.holidays[0] must be a date YYYY-MM-DD',
    ],
  ])('refuses %j naming the field', (text, message) => {
    expect(() => parseCalendar(text)).toThrow(CalendarError);
    expect(() => parseCalendar(text)).toThrow(message);
  });
});
