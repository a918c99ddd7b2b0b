// PersistentVolumeClaim `X-backups`, when backup.destination.volume.size asks the operator for one.
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import { names } from '@veloz/api/names';
import type { Desk, KubernetesObject } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';
import { q } from './quantity.ts';

/** The claim backups are written to (and restored from): the user's, the created one, or none (S3). */
export function backupClaimName(d: Desk): string | undefined {
  const volume = d.spec.backup.destination.volume;
  return volume?.claimName ?? (volume?.size ? names(d.metadata.name).backupsPvc : undefined);
}

export function backupPvc(d: Desk): KubernetesObject {
  const volume = d.spec.backup.destination.volume;
  if (!volume?.size) throw new Error('backup.destination.volume.size is not set: no claim to create');
  const size = volume.size;
  return manifest(
    (scope) =>
      new k8s.KubePersistentVolumeClaim(scope, 'backups', {
        // Backups outlive the deployment when its WAL does (wal.storage.retainOnDelete).
        metadata: objectMeta(d, names(d.metadata.name).backupsPvc, 'backup', {
          owned: !d.spec.wal.storage.retainOnDelete,
        }),
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: volume.storageClassName,
          volumeMode: 'Filesystem',
          resources: { requests: { storage: q(size) } },
        },
      }),
  );
}
