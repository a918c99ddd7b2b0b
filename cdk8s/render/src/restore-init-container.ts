// The engines' init container `restore` (spec.restore.fromBackup): bootstraps an empty WAL from a
// backup directory, a bucket or PostgreSQL before the engine starts.
import type * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import { BACKUP_MOUNT, POSTGRES_MOUNT, WAL_MOUNT } from '@veloz/api/names';
import { backupClaimName } from './backup-pvc.ts';
import { containerSecurity, image, podIndexEnv, s3Env, tmpMount } from './container.ts';
import type { Desk, RenderContext } from './context.ts';
import { kubeResources } from './quantity.ts';

/** The init container and the volumes it needs beyond the engine's own; undefined without restore. */
export function restoreInitContainer(
  d: Desk,
  ctx: RenderContext,
): { container: k8s.Container; volumes: k8s.Volume[] } | undefined {
  const restore = d.spec.restore?.fromBackup;
  if (!restore) return undefined;
  const args = ['restore', '--from', restore.source, '--deployment', d.metadata.name];
  if (restore.deployment) args.push('--source-deployment', restore.deployment);
  args.push('--pair', restore.pair === undefined ? '$(POD_INDEX)' : String(restore.pair));
  // Each engine picks its source by its pod index (ADR 0017: restore into more pairs than the backup).
  if (restore.pairSources) args.push('--pair-sources', restore.pairSources.join(','));
  args.push('--to', WAL_MOUNT);
  if (restore.upToTimestamp) args.push('--up-to-time', restore.upToTimestamp);
  // The init container runs again at every pod start: a WAL that already holds records (the
  // restored one, or newer orders written on top) is left alone instead of failing the pod.
  args.push('--if-empty');
  const mounts: k8s.VolumeMount[] = [{ name: 'wal', mountPath: WAL_MOUNT }, tmpMount];
  const volumes: k8s.Volume[] = [];
  const backupClaim = backupClaimName(d);
  if (restore.source.startsWith('/') && backupClaim) {
    volumes.push({ name: 'backups', persistentVolumeClaim: { claimName: backupClaim, readOnly: true } });
    mounts.push({ name: 'backups', mountPath: BACKUP_MOUNT, readOnly: true });
  }
  // The engine mounts the PostgreSQL URI Secret as volume `postgres` (engine-statefulset.ts).
  if (restore.source.startsWith('postgres') && d.spec.wal.postgres?.secretRef)
    mounts.push({ name: 'postgres', mountPath: POSTGRES_MOUNT, readOnly: true });
  return {
    container: {
      name: 'restore',
      ...image(d, ctx),
      args,
      env: [
        podIndexEnv(),
        ...(restore.source.startsWith('s3://') ? s3Env(d.spec.backup.destination.s3) : []),
      ],
      resources: kubeResources(d.spec.engine.resources),
      securityContext: containerSecurity,
      volumeMounts: mounts,
    },
    volumes,
  };
}
