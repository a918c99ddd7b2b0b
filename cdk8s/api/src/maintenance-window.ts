// Whether a maintenance window (spec.maintenance.windows) is open at a given instant, and when
// the next one opens: a pure function of the windows and `now`, so the operator passes its clock
// in and tests pass a fake one. Schedules are read with cron-parser, time zones with its Intl.
import { CronExpressionParser } from 'cron-parser';

/** As the CRD types have it: the API server refuses a window without schedule or duration. */
export interface Window {
  schedule?: string;
  duration?: string;
  timeZone?: string;
}

export interface WindowState {
  open: boolean;
  /** While open: when the open window (the one that closes last) closes. */
  closesAt?: Date;
  /** While closed: when the next window opens; undefined when no window ever opens again. */
  nextStart?: Date;
}

/** Kubernetes (robfig/cron) macros that cron-parser spells differently. */
const ALIASES: Record<string, string> = { '@midnight': '@daily' };

/** `2h`, `90m`, `1h30m`, `45s` in milliseconds; undefined for anything else or zero. */
export function windowDurationMs(duration: string): number | undefined {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration);
  if (!m || duration === '') return undefined;
  const ms = ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
  return ms > 0 ? ms : undefined;
}

/** Whether Intl knows the IANA time zone. */
export function zoneOk(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** A window as the user wrote it, for messages: `0 22 * * MON-FRI for 2h (Europe/London)`. */
export function describeWindow(w: Window): string {
  return `${w.schedule ?? '(no schedule)'} for ${w.duration ?? '(no duration)'} (${w.timeZone ?? 'UTC'})`;
}

/**
 * The state of one window at `now`. Every start has the same duration, so the window is open
 * exactly when the latest start at or before `now` is less than one duration ago.
 * Throws an Error naming the window when its schedule, duration or time zone cannot be read.
 */
export function oneWindowState(w: Window, now: Date): WindowState {
  const what = `maintenance window ${describeWindow(w)}`;
  const schedule = w.schedule ?? '';
  const duration = windowDurationMs(w.duration ?? '');
  if (duration === undefined) throw new Error(`${what}: duration must be like 2h, 90m or 1h30m`);
  const tz = w.timeZone ?? 'UTC';
  if (!zoneOk(tz)) throw new Error(`${what}: unknown time zone ${tz}`);
  if (!schedule.startsWith('@') && schedule.trim().split(/\s+/).length !== 5)
    throw new Error(`${what}: schedule must have five fields or be a macro`);
  const parse = (from: number) =>
    CronExpressionParser.parse(ALIASES[schedule] ?? schedule, { currentDate: new Date(from), tz });
  let last: number | undefined;
  let next: number | undefined;
  try {
    // prev() is strictly before its start; starts fall on whole minutes, so one millisecond after
    // `now` counts a start at `now` itself.
    const back = parse(now.getTime() + 1);
    last = back.hasPrev() ? back.prev().getTime() : undefined;
    const ahead = parse(now.getTime());
    next = ahead.hasNext() ? ahead.next().getTime() : undefined;
  } catch (err) {
    throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (last !== undefined && now.getTime() < last + duration)
    return { open: true, closesAt: new Date(last + duration) };
  return next === undefined ? { open: false } : { open: false, nextStart: new Date(next) };
}

/** Open when any window is; otherwise the earliest next start of them all. */
export function windowState(windows: readonly Window[], now: Date): WindowState {
  return combineStates(windows.map((w) => oneWindowState(w, now)));
}

/** Several windows as one (cron windows and a trading calendar): open when any is. */
export function combineStates(states: readonly WindowState[]): WindowState {
  const open = states.filter((s) => s.open);
  if (open.length > 0)
    return { open: true, closesAt: new Date(Math.max(...open.map((s) => s.closesAt!.getTime()))) };
  const starts = states.flatMap((s) => (s.nextStart ? [s.nextStart.getTime()] : []));
  return starts.length > 0 ? { open: false, nextStart: new Date(Math.min(...starts)) } : { open: false };
}
