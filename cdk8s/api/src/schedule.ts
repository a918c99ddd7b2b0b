// What a backup schedule (spec.backup.schedule in spec.backup.timeZone) means for staleness, read
// with cron-parser. The one definition: the BackupReady condition (BackupStale) and the
// VelozBackupStale alert both ask backupStaleAfterSeconds().
import { CronExpressionParser } from 'cron-parser';

/** Kubernetes (robfig/cron) macros that cron-parser spells differently. */
const ALIASES: Record<string, string> = { '@midnight': '@daily' };

// A fixed start, never the clock: the answer is a pure function of the schedule.
const REFERENCE = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;
// Two leap days ahead, so a schedule that runs on February 29 shows its four-year gap.
const HORIZON = 8 * 366 * DAY;
// Once this many run days and a year and a month are seen, every yearly pattern has shown its gaps.
const ENOUGH_DAYS = 400;
const YEAR_AND_A_MONTH = 397 * DAY;

/** Below this a backup is never stale: a run takes a while, and metrics are scraped late. */
export const MIN_STALE_SECONDS = 15 * 60;

const parse = (schedule: string, tz: string, from: number) =>
  CronExpressionParser.parse(ALIASES[schedule] ?? schedule, { currentDate: new Date(from), tz });

const gaps = new Map<string, number | undefined>();

/**
 * The longest time between two consecutive runs, in seconds; undefined for a schedule or time
 * zone that does not parse (Kubernetes rejects the CronJob then) or that never runs.
 *
 * Cron runs at the same times of day on every day it runs, so the gaps are those between the
 * times of one day and those between the last run of a day and the first of the next day that
 * has runs: one query per run day, evaluated in UTC wall-clock time. A time zone changes the
 * instants, not the wall-clock gaps, except across a daylight saving change, which can lengthen
 * a gap by its shift: that shift is added.
 */
export function maxGapSeconds(schedule: string, timeZone?: string): number | undefined {
  const key = `${schedule}\u0000${timeZone ?? ''}`;
  if (!gaps.has(key)) gaps.set(key, computeMaxGap(schedule, timeZone));
  return gaps.get(key);
}

function computeMaxGap(schedule: string, timeZone: string | undefined): number | undefined {
  // CronJob takes a macro or exactly five fields; cron-parser would also read four or six.
  if (!schedule.startsWith('@') && schedule.trim().split(/\s+/).length !== 5) return undefined;
  let expr;
  let shift;
  try {
    expr = parse(schedule, 'UTC', REFERENCE - 1000);
    shift = timeZone ? daylightSavingShift(timeZone) : 0;
  } catch {
    return undefined;
  }
  const times = expr.fields.hour.values
    .flatMap((h) => expr.fields.minute.values.map((m) => (Number(h) * 60 + Number(m)) * 60_000))
    .sort((a, b) => a - b);
  let max = 0;
  for (let i = 1; i < times.length; i++) max = Math.max(max, times[i]! - times[i - 1]!);
  const last = times.at(-1)!;
  try {
    let run = expr.next().getTime();
    for (let days = 1; ; days++) {
      const lastOfDay = run - (run % DAY) + last;
      expr.reset(new Date(lastOfDay));
      run = expr.next().getTime();
      max = Math.max(max, run - lastOfDay);
      const seen = run - REFERENCE;
      if (seen > HORIZON || (days >= ENOUGH_DAYS && seen > YEAR_AND_A_MONTH)) break;
    }
  } catch {
    // cron-parser gives up on a schedule with no run in its search range (February 30).
    return undefined;
  }
  return (max + shift) / 1000;
}

/** How much the zone's UTC offset changes over a year (0 without daylight saving time). */
function daylightSavingShift(timeZone: string): number {
  const [winter, summer] = parse('0 12 1 1,7 *', timeZone, REFERENCE - 1000)
    .take(2)
    .map((d) => d.getTime());
  return Math.abs(winter! - Date.UTC(2024, 0, 1, 12) - (summer! - Date.UTC(2024, 6, 1, 12)));
}

/**
 * How long after its last success a backup is stale: two of the longest gaps between runs (two
 * runs in a row missed or failed), at least MIN_STALE_SECONDS. undefined when the schedule cannot
 * be read: no CronJob exists then, so there is nothing to be late.
 */
export function backupStaleAfterSeconds(schedule: string, timeZone?: string): number | undefined {
  const gap = maxGapSeconds(schedule, timeZone);
  return gap === undefined ? undefined : Math.max(2 * gap, MIN_STALE_SECONDS);
}
