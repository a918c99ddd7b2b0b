import { describe, expect, it } from 'vitest';
import { desk, type Manifest } from '@veloz/testing/desk';
import { restoreDrillCronJob } from './restore-drill-cronjob.ts';

const CTX = {
  defaultImage: 'veloz:1',
  engineTokens: { trading: 't', admin: 'a', backup: 'b' },
  monitoringApiServed: false,
};

describe('restoreDrillCronJob', () => {
  it('is rendered only with backup.verify', () => {
    expect(restoreDrillCronJob(desk('d1'), CTX)).toBeUndefined();
  });

  it('drills every pair on its schedule into an emptyDir and reports through the termination message', () => {
    const cron = restoreDrillCronJob(
      desk('d1', {
        pairs: 2,
        backup: { schedule: '*/10 * * * *', verify: { schedule: '30 3 * * *' } },
      }),
      CTX,
    ) as Manifest;
    expect(cron).toMatchSnapshot();
    expect(cron.metadata.name).toBe('d1-restore-drill');
    expect(cron.spec).toMatchObject({ schedule: '30 3 * * *', suspend: false, concurrencyPolicy: 'Forbid' });
    const pod = cron.spec.jobTemplate.spec.template.spec;
    expect(pod.containers.map((c: Manifest) => c.args)).toEqual(
      [0, 1].map((i) => [
        'restore',
        '--drill',
        '--from',
        '/backups',
        '--deployment',
        'd1',
        '--pair',
        String(i),
        '--to',
        '/var/lib/veloz/drill',
        // One backup interval (10 minutes) plus the 300 s a backup may start late.
        '--max-backup-age-seconds',
        '900',
        '--report-file',
        '/dev/termination-log',
      ]),
    );
    // No engine token: a drill reads the store, never an engine.
    expect(JSON.stringify(pod)).not.toContain('engine-token');
    expect(pod.volumes).toContainEqual({ name: 'scratch', emptyDir: {} });
  });

  it('reads an S3 destination with the backup job’s endpoint and credentials', () => {
    const cron = restoreDrillCronJob(
      desk('d1', {
        backup: {
          timeZone: 'Europe/Paris',
          verify: { schedule: '@daily' },
          destination: {
            s3: {
              bucket: 'bk',
              prefix: 'p/',
              endpoint: 'http://s3:9000',
              credentialsSecretRef: { name: 's' },
            },
          },
        },
      }),
      CTX,
    ) as Manifest;
    // In the backup schedule's time zone, like the backup CronJob.
    expect(cron.spec.timeZone).toBe('Europe/Paris');
    const c = cron.spec.jobTemplate.spec.template.spec.containers[0];
    expect(c.args.slice(2, 4)).toEqual(['--from', 's3://bk/p/']);
    expect(c.env.map((e: Manifest) => e.name)).toContain('AWS_ENDPOINT_URL_S3');
  });
});
