// A trading calendar from a ConfigMap (spec.maintenance.calendarRef): the sessions in which the
// market trades, by weekday, and the holidays on which it does not. Maintenance may happen while
// the market is closed: outside every session and all day on a holiday. Pure, like
// maintenance-window.ts: the operator passes its clock, tests a fake one.
import { parse as parseYaml } from 'yaml';
import { zoneOk, type WindowState } from './maintenance-window.ts';

export interface Session {
  /** Weekdays, 0 = Sunday ... 6 = Saturday. */
  days: number[];
  /** Minutes after local midnight. */
  open: number;
  /** Minutes after local midnight; after open (a session does not cross midnight). */
  close: number;
}

export interface TradingCalendar {
  timeZone: string;
  sessions: Session[];
  /** Local dates `YYYY-MM-DD` without sessions. */
  holidays: Set<string>;
}

export class CalendarError extends Error {}

const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function days(v: unknown, where: string): number[] {
  if (typeof v !== 'string')
    throw new CalendarError(`${where}.days must be weekdays such as MON-FRI or SAT,SUN`);
  const out = new Set<number>();
  for (const part of v.toUpperCase().split(',')) {
    const [a, b] = part.trim().split('-');
    const from = DAYS.indexOf(a ?? '');
    const to = b === undefined ? from : DAYS.indexOf(b);
    if (from < 0 || to < 0 || to < from)
      throw new CalendarError(`${where}.days: "${part.trim()}" is not a weekday or a range such as MON-FRI`);
    for (let d = from; d <= to; d++) out.add(d);
  }
  return [...out];
}

function clock(v: unknown, where: string): number {
  const m = typeof v === 'string' ? /^([01]\d|2[0-3]):([0-5]\d)$/.exec(v) : null;
  if (!m)
    throw new CalendarError(`${where} must be a time of day HH:MM such as 09:30, got ${JSON.stringify(v)}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/**
 * Reads the calendar document (YAML or JSON):
 * `{timeZone: America/New_York, sessions: [{days: MON-FRI, open: "09:30", close: "16:00"}],
 * holidays: [2026-12-25]}`. Every problem names its field.
 */
export function parseCalendar(text: string, where = 'calendar'): TradingCalendar {
  let doc: unknown;
  try {
    // Dates stay strings: a holiday is a local date, not an instant.
    doc = parseYaml(text, { schema: 'core' });
  } catch (err) {
    throw new CalendarError(`${where} is not YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
  const o = doc as { timeZone?: unknown; sessions?: unknown; holidays?: unknown } | null;
  if (!o || typeof o !== 'object')
    throw new CalendarError(`${where} must be a mapping with timeZone and sessions`);
  const timeZone = o.timeZone ?? 'UTC';
  if (typeof timeZone !== 'string' || !zoneOk(timeZone))
    throw new CalendarError(`${where}.timeZone: unknown time zone ${JSON.stringify(timeZone)}`);
  if (!Array.isArray(o.sessions) || o.sessions.length === 0)
    throw new CalendarError(`${where}.sessions must list at least one session {days, open, close}`);
  const sessions = o.sessions.map((s: { days?: unknown; open?: unknown; close?: unknown }, i) => {
    const w = `${where}.sessions[${i}]`;
    const open = clock(s.open, `${w}.open`);
    const close = clock(s.close, `${w}.close`);
    if (close <= open)
      throw new CalendarError(`${w}: close must be after open (a session ends the day it starts)`);
    return { days: days(s.days, w), open, close };
  });
  const holidays = new Set<string>();
  if (o.holidays !== undefined) {
    if (!Array.isArray(o.holidays))
      throw new CalendarError(`${where}.holidays must be a list of dates YYYY-MM-DD`);
    o.holidays.forEach((h: unknown, i) => {
      const s = String(h);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || Number.isNaN(Date.parse(`${s}T00:00:00Z`)))
        throw new CalendarError(
          `${where}.holidays[${i}] must be a date YYYY-MM-DD, got ${JSON.stringify(h)}`,
        );
      holidays.add(s);
    });
  }
  return { timeZone, sessions, holidays };
}

interface Local {
  y: number;
  m: number;
  d: number;
  weekday: number;
}

/** The wall-clock reading of `ms` in the zone. */
function wallClock(ms: number, timeZone: string) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(ms));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  return {
    y: get('year'),
    m: get('month'),
    d: get('day'),
    h: get('hour'),
    mi: get('minute'),
    s: get('second'),
  };
}

/** The local date of `ms` in the zone. */
function localDate(ms: number, timeZone: string): Local {
  const { y, m, d } = wallClock(ms, timeZone);
  return { y, m, d, weekday: new Date(Date.UTC(y, m - 1, d)).getUTCDay() };
}

/** Offset of the zone from UTC at `ms`, in ms. */
function offsetMs(ms: number, timeZone: string): number {
  const w = wallClock(ms, timeZone);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000;
}

/** The instant of a local wall-clock time (the later reading in a daylight saving overlap). */
function instant(l: Local, minutes: number, timeZone: string): number {
  const wall = Date.UTC(l.y, l.m - 1, l.d) + minutes * 60_000;
  const first = wall - offsetMs(wall, timeZone);
  return wall - offsetMs(first, timeZone);
}

const iso = (l: Local) => `${l.y}-${String(l.m).padStart(2, '0')}-${String(l.d).padStart(2, '0')}`;

/** How far ahead sessions are looked for: a calendar of holidays only for a year never opens. */
const HORIZON_DAYS = 400;

/** The sessions of the local day `offset` days after `from`, as instants, in order. */
function sessionsOfDay(c: TradingCalendar, from: number, offset: number): Array<[number, number]> {
  const start = localDate(from, c.timeZone);
  const day = new Date(Date.UTC(start.y, start.m - 1, start.d + offset));
  const l: Local = {
    y: day.getUTCFullYear(),
    m: day.getUTCMonth() + 1,
    d: day.getUTCDate(),
    weekday: day.getUTCDay(),
  };
  if (c.holidays.has(iso(l))) return [];
  return c.sessions
    .filter((s) => s.days.includes(l.weekday))
    .map((s): [number, number] => [instant(l, s.open, c.timeZone), instant(l, s.close, c.timeZone)])
    .sort((a, b) => a[0] - b[0]);
}

/**
 * The maintenance window a calendar gives at `now`: open while no session trades (closing at the
 * next session's open), closed during a session (the next start is its close).
 */
export function calendarState(c: TradingCalendar, now: Date): WindowState {
  const t = now.getTime();
  // Yesterday too: a session of the previous local day may still run in another zone's terms.
  for (let offset = -1; offset <= HORIZON_DAYS; offset++) {
    for (const [open, close] of sessionsOfDay(c, t, offset)) {
      if (close <= t) continue;
      if (open <= t) return { open: false, nextStart: new Date(close) };
      return { open: true, closesAt: new Date(open) };
    }
  }
  // No session within the horizon: the market is closed throughout it.
  return { open: true, closesAt: new Date(t + HORIZON_DAYS * 86_400_000) };
}
