import { describe, expect, it } from 'vitest';
import type { IndexedCache } from '../cache.ts';
import { cacheTransform, type CachedDeployment } from '../cache-transforms.ts';
import { RESOURCES, type KubernetesObject } from '../kube/resources.ts';
import { MANAGED_SELECTOR, eventRouter, ownerKey, planInformers, type Watches } from './watches.ts';

const none: IndexedCache = { byIndex: () => [] };
const managed = { 'app.kubernetes.io/managed-by': 'veloz-operator', 'app.kubernetes.io/instance': 'desk' };

const parent: Watches = {
  for: RESOURCES.velozDeployment,
  owns: [RESOURCES.secret, RESOURCES.pod],
  watches: [{ resource: RESOURCES.secret, map: (s) => [`ns/user-of-${s.metadata.name}`] }],
  indexes: [
    {
      resource: RESOURCES.velozDeployment,
      name: 'byImage',
      values: (d: CachedDeployment) => [d.spec.image ?? ''],
    },
  ],
};
const other: Watches = {
  for: RESOURCES.velozStrategy,
  owns: [],
  watches: [{ resource: RESOURCES.pod, selector: MANAGED_SELECTOR, map: () => ['ns/s1', 'ns/s2'] }],
  indexes: [],
};

describe('planInformers', () => {
  it('plans one informer per kind: owned kinds by our label, a kind also watched whole when a declaration needs it', () => {
    const plans = planInformers([parent, other]);
    const byKind = Object.fromEntries(plans.map((p) => [p.resource.kind, p]));
    expect(Object.keys(byKind).sort()).toEqual(['Pod', 'Secret', 'VelozDeployment', 'VelozStrategy']);
    expect(byKind['Pod']?.selector).toBe(MANAGED_SELECTOR);
    // Owned (our label) and watched (any Secret a deployment names): the cache must hold both.
    expect(byKind['Secret']?.selector).toBeUndefined();
    expect(byKind['VelozDeployment']?.selector).toBeUndefined();
    expect(byKind['VelozDeployment']?.indexes.map((i) => i.name)).toEqual(['byImage']);
  });

  it('refuses an index on a kind nobody watches, or an index declared twice', () => {
    const strayIndex = { ...other, indexes: [{ resource: RESOURCES.job, name: 'x', values: () => [] }] };
    expect(() => planInformers([strayIndex])).toThrow(/jobs, which no controller watches/);
    expect(() => planInformers([parent, { ...other, indexes: parent.indexes }])).toThrow(/declared twice/);
  });
});

describe('eventRouter', () => {
  const router = eventRouter([parent, other], none);
  const route = (
    r: typeof RESOURCES.pod | typeof RESOURCES.secret | typeof RESOURCES.velozDeployment,
    o: KubernetesObject,
  ) => router(r, cacheTransform(r)(o));

  it('queues a reconciled object itself, urgently while its spec is not acted on', () => {
    const d = (observed: number) => ({
      apiVersion: 'veloz.io/v1alpha1',
      kind: 'VelozDeployment',
      metadata: { name: 'desk', namespace: 'ns', generation: 2 },
      spec: {},
      status: { observedGeneration: observed },
    });
    expect(route(RESOURCES.velozDeployment, d(1))).toEqual([
      { controller: 0, key: 'ns/desk', priority: 'urgent' },
    ]);
    expect(route(RESOURCES.velozDeployment, d(2))).toEqual([
      { controller: 0, key: 'ns/desk', priority: 'normal' },
    ]);
  });

  it('queues the owner of a child the operator made, and what each watch maps a change to', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'desk-engine-0', namespace: 'ns', labels: managed },
    };
    expect(route(RESOURCES.pod, pod)).toEqual([
      { controller: 0, key: 'ns/desk', priority: 'normal' },
      { controller: 1, key: 'ns/s1', priority: 'normal' },
      { controller: 1, key: 'ns/s2', priority: 'normal' },
    ]);
    const userSecret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'ns' } };
    expect(route(RESOURCES.secret, userSecret)).toEqual([
      { controller: 0, key: 'ns/user-of-creds', priority: 'normal' },
    ]);
  });
});

describe('ownerKey', () => {
  it('names the owner only of what the operator made', () => {
    expect(ownerKey({ metadata: { namespace: 'ns', labels: managed } })).toBe('ns/desk');
    expect(
      ownerKey({ metadata: { namespace: 'ns', labels: { 'app.kubernetes.io/instance': 'desk' } } }),
    ).toBeUndefined();
    expect(ownerKey({ metadata: { namespace: 'ns' } })).toBeUndefined();
  });
});
