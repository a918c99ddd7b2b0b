// spec.maintenance of a VelozDeployment: when a change that restarts the engines may roll out.
// Its own file so the other additions to the VelozDeployment schema merge without conflict.
import { int, list, named, obj, objectName, str } from './schema.ts';
import { CRON_RULE } from './cron.ts';

/** How a change that restarts engines is released; the default keeps the old behaviour. */
export const ROLLOUT_POLICIES = ['Immediate', 'InWindow', 'WhenFlat'] as const;

/** On a ConfigMap holding a trading calendar: the operator watches (and caches the data of) only those. */
export const CALENDAR_LABEL = 'veloz.io/trading-calendar';

/** What a person sets to roll the engines now, whatever the policy says (an emergency). */
export const ROLLOUT_NOW_ANNOTATION = 'veloz.io/rollout-now';

// Hours, minutes and seconds in that order (2h, 90m, 1h30m); the window logic reads the same.
export const WINDOW_DURATION_PATTERN = '^([0-9]+h)?([0-9]+m)?([0-9]+s)?$';

const window = named(
  'MaintenanceWindow',
  obj(
    'A recurring maintenance window: it opens at each run of schedule, in timeZone, and stays open for duration.',
    {
      schedule: str(
        'When the window opens, as a cron schedule of five fields (numbers, `*`, lists, ranges, steps, names such as MON-FRI) or a macro such as @daily, read in timeZone.',
        {
          maxLength: 100,
          'x-kubernetes-validations': [
            {
              rule: CRON_RULE,
              message:
                "maintenance.windows[].schedule must be a cron schedule of five fields such as '0 22 * * MON-FRI' or a macro such as @daily",
            },
          ],
        },
      ),
      duration: str('How long the window stays open: hours, minutes, seconds such as 2h, 90m or 1h30m.', {
        maxLength: 16,
        pattern: WINDOW_DURATION_PATTERN,
        'x-kubernetes-validations': [
          {
            rule: "self.matches('[1-9]')",
            message: 'maintenance.windows[].duration must be longer than zero, such as 2h or 90m',
          },
        ],
      }),
      timeZone: str('IANA time zone the schedule is read in, such as America/New_York.', {
        maxLength: 64,
        pattern: '^[A-Za-z][A-Za-z0-9_+/-]*$',
        default: 'UTC',
      }),
    },
    {
      'x-kubernetes-validations': [
        {
          rule: 'has(self.schedule)',
          message: 'maintenance.windows[] needs a schedule (when it opens)',
          fieldPath: '.schedule',
          reason: 'FieldValueRequired',
        },
        {
          rule: 'has(self.duration)',
          message: 'maintenance.windows[] needs a duration (how long it stays open), such as 2h',
          fieldPath: '.duration',
          reason: 'FieldValueRequired',
        },
      ],
    },
  ),
);

export const maintenance = named(
  'MaintenanceSpec',
  obj(
    'When a change that restarts the engines (image, configuration, resources, Secrets, WAL growth) is rolled out. Gateways are stateless and always roll at once. Annotation `veloz.io/rollout-now: "true"` rolls a waiting change now; the operator removes it afterwards.',
    {
      policy: str(
        'Immediate: roll at once. InWindow: wait for an open window. WhenFlat: wait until no engine has an open order and no position changed for flatSeconds (inside a window too, when windows are set).',
        { enum: [...ROLLOUT_POLICIES], default: 'Immediate' },
      ),
      windows: list('Maintenance windows; a change waits for the next one that opens.', window, {
        maxItems: 16,
      }),
      calendarRef: named(
        'TradingCalendarRef',
        obj(
          'A trading calendar in a ConfigMap of the namespace: maintenance may happen while the market is closed, outside every session and all day on holidays (docs/runbooks/rollouts.md). Counts as one more window; the operator watches the ConfigMap, which must carry the label `veloz.io/trading-calendar: "true"`.',
          {
            name: objectName('Name of the ConfigMap.'),
            key: str('Key of the calendar document (YAML or JSON: timeZone, sessions, holidays).', {
              minLength: 1,
              maxLength: 253,
              pattern: '^[-._a-zA-Z0-9]+$',
              default: 'calendar.yaml',
            }),
          },
          { required: ['name'] },
        ),
      ),
      flatSeconds: int('WhenFlat: seconds without open orders and without a position change.', {
        minimum: 1,
        maximum: 86400,
        default: 60,
      }),
    },
    {
      'x-kubernetes-validations': [
        {
          rule: "!has(self.policy) || self.policy != 'InWindow' || (has(self.windows) && size(self.windows) > 0) || has(self.calendarRef)",
          message:
            'maintenance.policy InWindow needs at least one entry in maintenance.windows, or maintenance.calendarRef',
          fieldPath: '.windows',
          reason: 'FieldValueRequired',
        },
      ],
    },
  ),
);
