import { describe, expect, it } from 'vitest';
import { desk } from '@veloz/testing/desk';
import { prometheusRule } from './prometheus-rule.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = any;
const alerts = (r: Manifest): string[] => r.spec.groups[0].rules.map((x: Manifest) => x.alert);

describe('prometheusRule', () => {
  it('holds one group of the deployment’s alerts', () => {
    const r: Manifest = prometheusRule(desk('d1'));
    expect([r.kind, r.metadata.name, r.spec.groups[0].name]).toEqual(['PrometheusRule', 'd1', 'veloz.d1']);
    expect(alerts(r)).toContain('VelozBackupStale');
  });

  it('leaves out backup alerts while hibernated or suspended, shipping alerts without PostgreSQL', () => {
    expect(alerts(prometheusRule(desk('d1', { pairs: 0 })))).not.toContain('VelozBackupStale');
    expect(alerts(prometheusRule(desk('d1', { backup: { suspend: true } })))).not.toContain(
      'VelozBackupFailed',
    );
    expect(alerts(prometheusRule(desk('d1')))).not.toContain('VelozWALShippingLag');
    expect(
      alerts(prometheusRule(desk('d1', { wal: { postgres: { secretRef: { name: 'pg' } } } }))),
    ).toContain('VelozWALShippingLag');
  });
});
