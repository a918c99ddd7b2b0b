import { describe, expect, it } from 'vitest';
import { desk } from '@veloz/testing/desk';
import { restoreInitContainer } from './restore-init-container.ts';

const CTX = {
  defaultImage: 'veloz:1',
  engineTokens: { trading: 't', admin: 'a', backup: 'b' },
  monitoringApiServed: false,
};

describe('restoreInitContainer', () => {
  it('is absent without spec.restore', () => {
    expect(restoreInitContainer(desk('d1'), CTX)).toBeUndefined();
  });

  it('restores the pod’s own pair into the WAL mount, only when it is empty', () => {
    const r = restoreInitContainer(desk('d1', { restore: { fromBackup: { source: 's3://b/p' } } }), CTX)!;
    expect(r.container.args).toEqual([
      'restore',
      '--from',
      's3://b/p',
      '--deployment',
      'd1',
      '--pair',
      '$(POD_INDEX)',
      '--to',
      '/var/lib/veloz/wal',
      '--if-empty',
    ]);
    expect(r.volumes).toEqual([]);
  });

  it('mounts the backup volume read-only for a path source', () => {
    const r = restoreInitContainer(desk('d1', { restore: { fromBackup: { source: '/backups' } } }), CTX)!;
    expect(r.volumes).toEqual([
      { name: 'backups', persistentVolumeClaim: { claimName: 'd1-backups', readOnly: true } },
    ]);
    expect(r.container.volumeMounts).toContainEqual({
      name: 'backups',
      mountPath: '/backups',
      readOnly: true,
    });
  });
});
