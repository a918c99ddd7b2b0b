import { describe, expect, it } from 'vitest';
import { desk, type Manifest } from '@veloz/testing/desk';
import { engineLeaseRole, engineLeaseRoleBinding, engineServiceAccount } from './engine-lease-rbac.ts';

describe('the engines’ Lease RBAC', () => {
  it('lets the engines create Leases, and read and renew only their own pairs’', () => {
    const role: Manifest = engineLeaseRole(desk('d1', { pairs: 2 }));
    expect(role.kind).toBe('Role');
    expect(role.metadata).toMatchObject({ name: 'd1-engine-lease', namespace: 'trading' });
    expect(role.rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: ['d1-engine-0', 'd1-engine-1'],
        verbs: ['get', 'update'],
      },
    ]);
    expect((engineLeaseRole(desk('d1', { pairs: 0 })) as Manifest).rules).toHaveLength(1);
  });

  it('binds the engines’ own ServiceAccount, which mounts no token by itself', () => {
    const sa: Manifest = engineServiceAccount(desk('d1'));
    expect([sa.kind, sa.metadata.name, sa.automountServiceAccountToken]).toEqual([
      'ServiceAccount',
      'd1-engine',
      false,
    ]);
    const b: Manifest = engineLeaseRoleBinding(desk('d1'));
    expect(b.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'd1-engine-lease',
    });
    expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: 'd1-engine', namespace: 'trading' }]);
  });
});
