import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '../kube/resources.ts';
import { priorityOf } from './priority.ts';

const obj = (metadata: KubernetesObject['metadata'], status?: object): KubernetesObject => ({
  apiVersion: 'veloz.io/v1alpha1',
  kind: 'VelozDeployment',
  metadata,
  ...(status ? { status } : {}),
});

describe('priorityOf', () => {
  it.each([
    ['new, no status yet', obj({ name: 'a', generation: 1 }), 'urgent'],
    [
      'spec changed since the last pass',
      obj({ name: 'a', generation: 3 }, { observedGeneration: 2 }),
      'urgent',
    ],
    ['status current', obj({ name: 'a', generation: 3 }, { observedGeneration: 3 }), 'normal'],
    [
      'being deleted',
      obj({ name: 'a', generation: 3, deletionTimestamp: '2026-11-21T00:00:00Z' }, { observedGeneration: 3 }),
      'urgent',
    ],
    ['no generation (not a spec object)', obj({ name: 'a' }), 'normal'],
  ])('%s -> %s', (_case, o, want) => {
    expect(priorityOf(o)).toBe(want);
  });
});
