import { describe, expect, it } from 'vitest';
import { desk, type Manifest } from '@veloz/testing/desk';
import { backupStaleAfterSeconds } from '@veloz/api/schedule';
import { prometheusRule } from './prometheus-rule.ts';

const CTX = {
  defaultImage: 'veloz:1',
  engineTokens: { trading: 't', admin: 'a', backup: 'b' },
  monitoringApiServed: true,
};
const alerts = (r: Manifest): string[] => r.spec.groups[0].rules.map((x: Manifest) => x.alert);

describe('prometheusRule', () => {
  it('links every alert to its runbook section: the CR’s base, else the operator’s, else the default', () => {
    const urls = (r: Manifest): string[] =>
      r.spec.groups[0].rules.map((x: Manifest) => x.annotations.runbook_url);
    expect(urls(prometheusRule(desk('d1'), CTX))).toContain(
      'https://github.com/veloz/veloz/blob/main/docs/runbooks/alerts.md#velozbackupstale',
    );
    const operator = { ...CTX, runbookBaseUrl: 'https://wiki.example/veloz' };
    expect(urls(prometheusRule(desk('d1'), operator))).toContain(
      'https://wiki.example/veloz#velozwalcorruption',
    );
    const own = desk('d1', {
      monitoring: { prometheusRule: { runbookBaseUrl: 'https://docs.desk.example/rb' } },
    });
    for (const url of urls(prometheusRule(own, operator)))
      expect(url).toMatch(/^https:\/\/docs\.desk\.example\/rb#veloz[a-z]+$/);
  });

  it('holds one group of the deployment’s alerts', () => {
    const r: Manifest = prometheusRule(desk('d1'), CTX);
    expect([r.kind, r.metadata.name, r.spec.groups[0].name]).toEqual(['PrometheusRule', 'd1', 'veloz.d1']);
    expect(alerts(r)).toContain('VelozBackupStale');
  });

  it('leaves out backup alerts while hibernated or suspended, shipping alerts without PostgreSQL', () => {
    expect(alerts(prometheusRule(desk('d1', { pairs: 0 }), CTX))).not.toContain('VelozBackupStale');
    expect(alerts(prometheusRule(desk('d1', { backup: { suspend: true } }), CTX))).not.toContain(
      'VelozBackupFailed',
    );
    expect(alerts(prometheusRule(desk('d1'), CTX))).not.toContain('VelozWALShippingLag');
    expect(
      alerts(prometheusRule(desk('d1', { wal: { postgres: { secretRef: { name: 'pg' } } } }), CTX)),
    ).toContain('VelozWALShippingLag');
  });

  it.each([
    ['*/5 * * * *', undefined],
    ['@daily', undefined],
    ['0 2 * * MON-FRI', 'Europe/Paris'],
  ])('alerts on a stale backup at the BackupReady threshold: %s %s', (schedule, timeZone) => {
    const r: Manifest = prometheusRule(desk('d1', { backup: { schedule, timeZone } }), CTX);
    const stale = r.spec.groups[0].rules.find((x: Manifest) => x.alert === 'VelozBackupStale');
    expect(stale.expr).toMatch(new RegExp(` > ${backupStaleAfterSeconds(schedule, timeZone)}$`));
  });

  it('alerts on a failed restore drill and on none for two drill schedules, only with backup.verify', () => {
    expect(alerts(prometheusRule(desk('d1'), CTX))).not.toContain('VelozRestoreDrillFailed');
    const r: Manifest = prometheusRule(desk('d1', { backup: { verify: { schedule: '0 3 * * *' } } }), CTX);
    const rules = r.spec.groups[0].rules as Manifest[];
    expect(rules.find((x) => x.alert === 'VelozRestoreDrillFailed').expr).toBe(
      'max(kube_job_status_failed{namespace="trading", job_name=~"d1-restore-drill-.*"}) > 0',
    );
    // Two days: the same threshold as BackupVerified=False/DrillStale.
    expect(rules.find((x) => x.alert === 'VelozRestoreDrillStale').expr).toBe(
      `time() - max(kube_cronjob_status_last_successful_time{namespace="trading", cronjob="d1-restore-drill"}) > ${2 * 86400}`,
    );
    const suspended = prometheusRule(
      desk('d1', { backup: { verify: { schedule: '0 3 * * *', suspend: true } } }),
      CTX,
    );
    expect(alerts(suspended)).not.toContain('VelozRestoreDrillStale');
  });
});
