// PrometheusRule `X`: the alerts of alerts.ts for this deployment.
import { ApiObject } from 'cdk8s';
import { names } from '@veloz/api/names';
import { DEFAULT_RUNBOOK_BASE_URL } from '@veloz/api/runbooks';
import { alertRules } from './alerts.ts';
import type { Desk, KubernetesObject, RenderContext } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';

export function prometheusRule(d: Desk, ctx: RenderContext): KubernetesObject {
  const x = d.metadata.name;
  const { monitoring, backup, pairs, wal } = d.spec;
  return manifest(
    (scope) =>
      new ApiObject(scope, 'prometheus-rule', {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: objectMeta(d, names(x).monitoring, 'monitoring', {
          labels: monitoring.prometheusRule.labels,
        }),
        spec: {
          groups: [
            {
              name: `veloz.${x}`,
              rules: alertRules(x, d.metadata.namespace, {
                schedule: backup.schedule,
                timeZone: backup.timeZone,
                latencySeconds: monitoring.prometheusRule.orderLatencySeconds,
                runbookBaseUrl:
                  monitoring.prometheusRule.runbookBaseUrl ?? ctx.runbookBaseUrl ?? DEFAULT_RUNBOOK_BASE_URL,
                backups: pairs > 0 && !backup.suspend,
                ...(backup.verify && !backup.verify.suspend ? { drillSchedule: backup.verify.schedule } : {}),
                // Engines ship only when the URI Secret is mounted (wal.postgres.secretRef).
                walShipping: wal.postgres?.secretRef !== undefined,
              }),
            },
          ],
        },
      }),
  );
}
