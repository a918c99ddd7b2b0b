import { describe, expect, it } from 'vitest';
import { desk } from '@veloz/testing/desk';
import { backupClaimName, backupPvc } from './backup-pvc.ts';

describe('backupPvc', () => {
  it('asks for the size and class the spec gives, owned unless the WAL is retained', () => {
    const d = desk('d1', {
      backup: { destination: { volume: { size: '20Gi', storageClassName: 'slow' } } },
      wal: { storage: { retainOnDelete: false } },
    });
    const pvc = backupPvc(d);
    expect(pvc.metadata.name).toBe('d1-backups');
    expect(pvc['spec']).toEqual({
      accessModes: ['ReadWriteOnce'],
      storageClassName: 'slow',
      volumeMode: 'Filesystem',
      resources: { requests: { storage: '20Gi' } },
    });
    expect(pvc.metadata.ownerReferences).toHaveLength(1);
    expect(
      backupPvc(desk('d1', { wal: { storage: { retainOnDelete: true } } })).metadata.ownerReferences,
    ).toBeUndefined();
  });

  it('names the claim backups use: created, the user’s, or none for S3', () => {
    expect(backupClaimName(desk('d1'))).toBe('d1-backups');
    expect(backupClaimName(desk('d1', { backup: { destination: { volume: { claimName: 'own' } } } }))).toBe(
      'own',
    );
    expect(
      backupClaimName(desk('d1', { backup: { destination: { s3: { bucket: 'b-1' } } } })),
    ).toBeUndefined();
    expect(() => backupPvc(desk('d1', { backup: { destination: { s3: { bucket: 'b-1' } } } }))).toThrow(
      /size/,
    );
  });
});
