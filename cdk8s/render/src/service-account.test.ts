import { describe, expect, it } from 'vitest';
import { desk } from '@veloz/testing/desk';
import { serviceAccount } from './service-account.ts';

describe('serviceAccount', () => {
  it('is named after the deployment and mounts no API token', () => {
    const sa = serviceAccount(desk('d1'));
    expect(sa.kind).toBe('ServiceAccount');
    expect(sa.metadata).toMatchObject({ name: 'd1', namespace: 'trading' });
    expect(sa['automountServiceAccountToken']).toBe(false);
  });
});
