import { describe, expect, it } from 'vitest';
import { desk, type Manifest } from '@veloz/testing/desk';
import { backupCronJob } from './backup-cronjob.ts';

const CTX = {
  defaultImage: 'veloz:1',
  engineTokens: { trading: 't', admin: 'a', backup: 'b' },
  monitoringApiServed: false,
};

describe('backupCronJob', () => {
  it('backs up every pair on the schedule, in its time zone, one run at a time', () => {
    const cron: Manifest = backupCronJob(
      desk('d1', { pairs: 2, backup: { schedule: '0 2 * * MON-FRI', timeZone: 'Europe/Paris' } }),
      CTX,
    );
    expect(cron.metadata.name).toBe('d1-wal-backup');
    expect(cron.spec).toMatchObject({
      schedule: '0 2 * * MON-FRI',
      timeZone: 'Europe/Paris',
      concurrencyPolicy: 'Forbid',
    });
    const pod = cron.spec.jobTemplate.spec.template.spec;
    expect(pod.containers.map((c: Manifest) => [c.name, c.args[2]])).toEqual([
      ['backup-0', 'http://d1-engine-0.d1-engine:8080'],
      ['backup-1', 'http://d1-engine-1.d1-engine:8080'],
    ]);
    expect(pod.volumes).toContainEqual({
      name: 'backups',
      persistentVolumeClaim: { claimName: 'd1-backups' },
    });
  });
});
