import { describe, expect, it } from 'vitest';
import { VELOZ_DEPLOYMENT } from './crd/crds.ts';
import { applyDefaults } from './crd/defaults.ts';
import { validate } from './crd/validate.ts';
import { MIN_STALE_SECONDS, backupStaleAfterSeconds, maxGapSeconds } from './schedule.ts';

const H = 3600;
const D = 24 * H;

/** Whether the CRD (its CEL rule for spec.backup.schedule, and timeZone's pattern) accepts it. */
function crdAccepts(schedule: string, timeZone?: string): boolean {
  const cr = applyDefaults(VELOZ_DEPLOYMENT.schema, {
    apiVersion: 'veloz.io/v1alpha1',
    kind: 'VelozDeployment',
    metadata: { name: 'x' },
    spec: { backup: { schedule, ...(timeZone ? { timeZone } : {}) } },
  });
  return validate(VELOZ_DEPLOYMENT, cr).length === 0;
}

// Every form the CRD accepts, with the longest gap between two runs worked out by hand.
const FORMS: Array<[form: string, schedule: string, timeZone: string | undefined, maxGap: number]> = [
  ['macro @yearly', '@yearly', undefined, 366 * D],
  ['macro @annually', '@annually', undefined, 366 * D],
  ['macro @monthly', '@monthly', undefined, 31 * D],
  ['macro @weekly', '@weekly', undefined, 7 * D],
  ['macro @daily', '@daily', undefined, D],
  ['macro @midnight (robfig/cron’s @daily)', '@midnight', undefined, D],
  ['macro @hourly', '@hourly', undefined, H],
  ['every minute', '* * * * *', undefined, 60],
  ['numbers', '30 2 * * *', undefined, D],
  ['step of any', '*/5 * * * *', undefined, 5 * 60],
  ['step from a start (5, 20, 35, 50)', '5/15 * * * *', undefined, 15 * 60],
  ['step of a range (8, 12, 16, 20 h)', '0 8-20/4 * * *', undefined, 12 * H],
  ['list', '0,30 6,18 * * *', undefined, 12 * H - 30 * 60],
  ['range of hours on weekdays (numbers)', '0 9-17 * * 1-5', undefined, 64 * H],
  ['weekday names', '0 2 * * MON-FRI', undefined, 3 * D],
  ['weekday names in lower case', '0 2 * * mon-fri', undefined, 3 * D],
  ['weekday name list', '0 2 * * MON,WED,FRI', undefined, 3 * D],
  ['Sunday as 7', '0 0 * * 7', undefined, 7 * D],
  ['? in day of month', '0 0 ? * SUN', undefined, 7 * D],
  ['? in day of week', '0 0 1 * ?', undefined, 31 * D],
  ['day of month OR day of week (both restricted)', '0 0 1-7 * 1', undefined, 7 * D],
  ['month names', '0 0 1 JAN,JUL *', undefined, 184 * D],
  ['month name range with a step', '0 0 1 JAN-MAR/2 *', undefined, 306 * D],
  ['a day some months lack', '0 0 31 * *', undefined, 61 * D],
  ['February 29', '0 0 29 2 *', undefined, 1461 * D],
  ['time zone without daylight saving', '0 2 * * MON-FRI', 'Asia/Kolkata', 3 * D],
  ['time zone with daylight saving (one hour longer)', '0 2 * * MON-FRI', 'Europe/Paris', 3 * D + H],
  ['southern time zone with daylight saving', '@daily', 'Australia/Sydney', D + H],
  ['UTC', '@hourly', 'UTC', H],
];

describe('maxGapSeconds over every schedule form the CRD accepts', () => {
  it.each(FORMS)('%s: %s %s', (_, schedule, timeZone, maxGap) => {
    expect(crdAccepts(schedule, timeZone)).toBe(true);
    expect(maxGapSeconds(schedule, timeZone)).toBe(maxGap);
    expect(backupStaleAfterSeconds(schedule, timeZone)).toBe(Math.max(2 * maxGap, MIN_STALE_SECONDS));
  });
});

describe('schedules the CRD refuses', () => {
  it.each([
    ['four fields', '*/5 * * *'],
    ['six fields (seconds)', '0 */5 * * * *'],
    ['a TZ= prefix (spec.backup.timeZone instead)', 'TZ=UTC */5 * * * *'],
    ['a CRON_TZ= prefix', 'CRON_TZ=UTC */5 * * * *'],
    ['Quartz L', '0 0 L * *'],
    ['Quartz W', '0 0 15W * *'],
    ['Quartz #', '0 0 * * MON#2'],
    ['@every (not a CronJob macro here)', '@every 5m'],
    ['a typo', '0 0 * * MONDAY'],
  ])('%s: %s', (_, schedule) => {
    expect(crdAccepts(schedule)).toBe(false);
  });
});

describe('schedules that pass the CRD but never make a CronJob', () => {
  it.each([
    ['out of range (the API server refuses the CronJob)', '61 * * * *', undefined],
    ['a day that never comes', '0 0 30 2 *', undefined],
    ['an unknown time zone', '@daily', 'Mars/Olympus_Mons'],
  ])('%s: %s have no staleness', (_, schedule, timeZone) => {
    expect(crdAccepts(schedule, timeZone)).toBe(true);
    expect(maxGapSeconds(schedule, timeZone)).toBeUndefined();
    expect(backupStaleAfterSeconds(schedule, timeZone)).toBeUndefined();
  });
});

describe('what does not parse', () => {
  it.each(['* * * *', '61 * * * *', 'a b c d e', '*/0 * * * *', ''])('%j has no gap', (schedule) => {
    expect(maxGapSeconds(schedule)).toBeUndefined();
  });
});

describe('backupStaleAfterSeconds', () => {
  it('is two of the longest gaps, never less than 15 minutes', () => {
    expect(backupStaleAfterSeconds('* * * * *')).toBe(15 * 60);
    expect(backupStaleAfterSeconds('*/5 * * * *')).toBe(15 * 60);
    expect(backupStaleAfterSeconds('*/10 * * * *')).toBe(20 * 60);
    expect(backupStaleAfterSeconds('@hourly')).toBe(2 * H);
    expect(backupStaleAfterSeconds('@daily')).toBe(2 * D);
  });
});
