// The schema cases of spec.maintenance (crd-cases.ts replays them with the others). Standalone:
// crd-cases.ts imports this file, so it builds its objects itself.
import type { SchemaCase } from './crd-cases.ts';

const desk = (name: string, maintenance: Record<string, unknown>) => ({
  apiVersion: 'veloz.io/v1alpha1',
  kind: 'VelozDeployment',
  metadata: { name },
  spec: { maintenance },
});

const nightly = { schedule: '0 22 * * MON-FRI', duration: '2h', timeZone: 'Europe/London' };

export const MAINTENANCE_INVALID_CASES: SchemaCase[] = [
  {
    name: 'maintenance window without a duration',
    kind: 'VelozDeployment',
    object: desk('mw-no-duration', { windows: [{ schedule: '0 22 * * *' }] }),
    expect: {
      field: 'spec.maintenance.windows[0].duration',
      message: 'maintenance.windows[] needs a duration',
    },
  },
  {
    name: 'maintenance window without a schedule',
    kind: 'VelozDeployment',
    object: desk('mw-no-schedule', { windows: [{ duration: '1h' }] }),
    expect: {
      field: 'spec.maintenance.windows[0].schedule',
      message: 'maintenance.windows[] needs a schedule',
    },
  },
  {
    name: 'maintenance window of zero length',
    kind: 'VelozDeployment',
    object: desk('mw-zero', { windows: [{ ...nightly, duration: '0m' }] }),
    expect: {
      field: 'spec.maintenance.windows[0].duration',
      message: 'maintenance.windows[].duration must be longer than zero',
    },
  },
  {
    name: 'maintenance window duration in days',
    kind: 'VelozDeployment',
    object: desk('mw-days', { windows: [{ ...nightly, duration: '1d' }] }),
    expect: { field: 'spec.maintenance.windows[0].duration' },
  },
  {
    name: 'maintenance window schedule of four fields',
    kind: 'VelozDeployment',
    object: desk('mw-cron4', { windows: [{ ...nightly, schedule: '0 22 * *' }] }),
    expect: {
      field: 'spec.maintenance.windows[0].schedule',
      message: 'maintenance.windows[].schedule must be a cron schedule',
    },
  },
  {
    name: 'maintenance window time zone that is not an IANA name',
    kind: 'VelozDeployment',
    object: desk('mw-tz', { windows: [{ ...nightly, timeZone: 'UTC+01:00 ' }] }),
    expect: { field: 'spec.maintenance.windows[0].timeZone' },
  },
  {
    name: 'rollout policy InWindow without windows',
    kind: 'VelozDeployment',
    object: desk('mw-none', { policy: 'InWindow' }),
    expect: {
      field: 'spec.maintenance.windows',
      message:
        'maintenance.policy InWindow needs at least one entry in maintenance.windows, or maintenance.calendarRef',
    },
  },
  {
    name: 'trading calendar reference without a name',
    kind: 'VelozDeployment',
    object: desk('mw-cal', { policy: 'InWindow', calendarRef: { key: 'nyse.yaml' } }),
    expect: { field: 'spec.maintenance.calendarRef.name' },
  },
  {
    name: 'unknown rollout policy',
    kind: 'VelozDeployment',
    object: desk('mw-policy', { policy: 'Never', windows: [nightly] }),
    expect: { field: 'spec.maintenance.policy' },
  },
];

export const MAINTENANCE_VALID_CASES: SchemaCase[] = [
  {
    name: 'maintenance windows with a rollout policy',
    kind: 'VelozDeployment',
    object: desk('mw-ok', {
      policy: 'InWindow',
      windows: [nightly, { schedule: '@daily', duration: '1h30m' }],
    }),
    expect: { field: '' },
  },
  {
    name: 'InWindow on a trading calendar alone',
    kind: 'VelozDeployment',
    object: desk('mw-cal-ok', { policy: 'InWindow', calendarRef: { name: 'nyse' } }),
    expect: { field: '' },
  },
];
