// CronJob `X-wal-backup`: one container per pair, so every engine is backed up in the same run and
// no shell is needed in the image.
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import { BACKUP_MOUNT, labels, names } from '@veloz/api/names';
import { backupClaimName } from './backup-pvc.ts';
import { engineTokenFiles } from './engine-token-secret.ts';
import { containerSecurity, image, s3Env, tmpMount } from './container.ts';
import type { Desk, KubernetesObject, RenderContext } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';
import { podSpec, tmpVolume } from './pod.ts';
import { q } from './quantity.ts';

/** Where the desk's backups are, as `veloz backup --dest` / `veloz restore --from` name them, and how to reach them. */
export function backupStore(d: Desk): {
  dest: string;
  env: k8s.EnvVar[];
  volumes: k8s.Volume[];
  mounts: k8s.VolumeMount[];
} {
  const s3 = d.spec.backup.destination.s3;
  const volumes: k8s.Volume[] = [];
  const mounts: k8s.VolumeMount[] = [];
  const claim = backupClaimName(d);
  if (claim) {
    volumes.push({ name: 'backups', persistentVolumeClaim: { claimName: claim } });
    mounts.push({ name: 'backups', mountPath: BACKUP_MOUNT });
  }
  return {
    dest: s3 ? `s3://${s3.bucket}/${s3.prefix ?? ''}` : BACKUP_MOUNT,
    env: s3Env(s3),
    volumes,
    mounts,
  };
}

export function backupCronJob(d: Desk, ctx: RenderContext): KubernetesObject {
  const x = d.metadata.name;
  const n = names(x);
  const { backup, pairs } = d.spec;
  const store = backupStore(d);
  const dest = store.dest;
  const tokens = engineTokenFiles(d, ['backup']);
  const env = [...store.env, ...tokens.env];
  const volumes: k8s.Volume[] = [tmpVolume, tokens.volume, ...store.volumes];
  const mounts: k8s.VolumeMount[] = [tmpMount, tokens.mount, ...store.mounts];
  const containers: k8s.Container[] = Array.from({ length: pairs }, (_, i) => ({
    name: `backup-${i}`,
    ...image(d, ctx),
    args: [
      'backup',
      '--engine-url',
      n.engineUrl(i),
      '--deployment',
      x,
      '--pair',
      String(i),
      '--dest',
      dest,
      '--retention-days',
      String(backup.retentionDays),
    ],
    env,
    resources: {
      requests: { cpu: q('50m'), memory: q('128Mi') },
      limits: { memory: q('256Mi') },
    },
    securityContext: containerSecurity,
    volumeMounts: mounts,
  }));
  return manifest(
    (scope) =>
      new k8s.KubeCronJob(scope, 'backup', {
        metadata: objectMeta(d, n.backupCronJob, 'backup'),
        spec: {
          schedule: backup.schedule,
          timeZone: backup.timeZone,
          suspend: backup.suspend,
          concurrencyPolicy: 'Forbid',
          startingDeadlineSeconds: 300,
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            metadata: { labels: labels(x, 'backup') },
            spec: {
              backoffLimit: 2,
              activeDeadlineSeconds: 1800,
              ttlSecondsAfterFinished: 86400,
              template: {
                metadata: { labels: labels(x, 'backup') },
                spec: podSpec(d, 'backup', { restartPolicy: 'Never', containers, volumes }),
              },
            },
          },
        },
      }),
  );
}
