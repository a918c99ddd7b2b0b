// CronJob `X-restore-drill` (spec.backup.verify, ADR 0024): one container per pair runs
// `veloz restore --drill` on the newest backup of its pair in an emptyDir and leaves its JSON
// result as the container's termination message, which the operator reads into
// status.lastRestoreTest and the BackupVerified condition. It never talks to the engines.
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import { DRILL_LABEL, labels, names } from '@veloz/api/names';
import { maxGapSeconds } from '@veloz/api/schedule';
import { backupStore } from './backup-cronjob.ts';
import { containerSecurity, image, tmpMount } from './container.ts';
import type { Desk, KubernetesObject, RenderContext } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';
import { podSpec, tmpVolume } from './pod.ts';
import { q } from './quantity.ts';

export const DRILL_SCRATCH = '/var/lib/veloz/drill';

/**
 * The newest backup may be one backup interval old, plus the 300 s a backup run may start late
 * (the backup CronJob's startingDeadlineSeconds). Absent when the backup schedule cannot be read.
 */
export function drillMaxBackupAgeSeconds(d: Desk): number | undefined {
  const gap = maxGapSeconds(d.spec.backup.schedule, d.spec.backup.timeZone);
  return gap === undefined ? undefined : gap + 300;
}

export function restoreDrillCronJob(d: Desk, ctx: RenderContext): KubernetesObject | undefined {
  const { backup, pairs } = d.spec;
  const verify = backup.verify;
  if (!verify) return undefined;
  const x = d.metadata.name;
  const n = names(x);
  const store = backupStore(d);
  const maxAge = drillMaxBackupAgeSeconds(d);
  const podLabels = labels(x, 'backup', { [DRILL_LABEL]: 'true' });
  const containers: k8s.Container[] = Array.from({ length: pairs }, (_, i) => ({
    name: `drill-${i}`,
    ...image(d, ctx),
    args: [
      'restore',
      '--drill',
      '--from',
      store.dest,
      '--deployment',
      x,
      '--pair',
      String(i),
      '--to',
      DRILL_SCRATCH,
      ...(maxAge === undefined ? [] : ['--max-backup-age-seconds', String(maxAge)]),
      '--report-file',
      '/dev/termination-log',
    ],
    env: store.env,
    resources: {
      requests: { cpu: q('100m'), memory: q('256Mi') },
      limits: { memory: q('1Gi') },
    },
    securityContext: containerSecurity,
    terminationMessagePolicy: 'File',
    volumeMounts: [tmpMount, { name: 'scratch', mountPath: DRILL_SCRATCH }, ...store.mounts],
  }));
  return manifest(
    (scope) =>
      new k8s.KubeCronJob(scope, 'restore-drill', {
        metadata: objectMeta(d, n.restoreDrillCronJob, 'backup'),
        spec: {
          schedule: verify.schedule,
          timeZone: backup.timeZone,
          suspend: verify.suspend,
          concurrencyPolicy: 'Forbid',
          startingDeadlineSeconds: 300,
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            metadata: { labels: podLabels },
            spec: {
              // A failed drill is a result to report, not a run to retry.
              backoffLimit: 0,
              activeDeadlineSeconds: 3600,
              ttlSecondsAfterFinished: 86400,
              template: {
                metadata: { labels: podLabels },
                spec: podSpec(d, 'backup', {
                  restartPolicy: 'Never',
                  containers,
                  // The restored WAL lives only as long as the pod.
                  volumes: [tmpVolume, { name: 'scratch', emptyDir: {} }, ...store.volumes],
                }),
              },
            },
          },
        },
      }),
  );
}
