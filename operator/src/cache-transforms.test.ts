import { describe, expect, it } from 'vitest';
import { cacheTransform, isCached } from './cache-transforms.ts';
import { RESOURCES } from './kube/resources.ts';

const metadata = {
  name: 'x',
  namespace: 'ns',
  uid: 'u',
  resourceVersion: '7',
  generation: 2,
  labels: { a: 'b' },
  annotations: { big: '…' },
  ownerReferences: [{ apiVersion: 'v1', kind: 'K', name: 'o', uid: 'ou', controller: true }],
  managedFields: [{ manager: 'm' }],
  finalizers: ['f'],
};
const kept = {
  name: 'x',
  namespace: 'ns',
  uid: 'u',
  resourceVersion: '7',
  generation: 2,
  labels: { a: 'b' },
  ownerReferences: metadata.ownerReferences,
  deletionTimestamp: undefined,
};

describe('cache transforms', () => {
  it.each([
    [
      'a pod: its node, IP, phase and Ready condition',
      RESOURCES.pod,
      {
        spec: { containers: [{ name: 'c' }], nodeName: 'n1' },
        status: {
          podIP: '10.0.0.1',
          phase: 'Running',
          hostIP: '1.1.1.1',
          conditions: [
            { type: 'Ready', status: 'True' },
            { type: 'Initialized', status: 'True' },
          ],
        },
      },
      {
        spec: { nodeName: 'n1' },
        status: { podIP: '10.0.0.1', phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
      },
    ],
    [
      'a Node: its Ready condition, without the heartbeat',
      RESOURCES.node,
      {
        spec: { providerID: 'kind://podman/veloz/n1' },
        status: {
          capacity: { cpu: '2' },
          conditions: [
            { type: 'MemoryPressure', status: 'False', lastHeartbeatTime: 't1' },
            {
              type: 'Ready',
              status: 'False',
              reason: 'KubeletNotReady',
              message: 'runtime down',
              lastHeartbeatTime: 't1',
              lastTransitionTime: 't0',
            },
          ],
        },
      },
      {
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'False',
              reason: 'KubeletNotReady',
              message: 'runtime down',
              lastTransitionTime: 't0',
            },
          ],
        },
      },
    ],
    [
      'a claim: its requested size and phase',
      RESOURCES.pvc,
      {
        spec: { resources: { requests: { storage: '1Gi' } }, volumeName: 'pv' },
        status: { phase: 'Bound', capacity: {} },
      },
      { spec: { resources: { requests: { storage: '1Gi' } } }, status: { phase: 'Bound' } },
    ],
    [
      'a job: its conditions',
      RESOURCES.job,
      { spec: { template: {} }, status: { conditions: [{ type: 'Complete', status: 'True' }], active: 0 } },
      { status: { conditions: [{ type: 'Complete', status: 'True' }] } },
    ],
    [
      'a StatefulSet: replicas, claim templates and status, not its pod template',
      RESOURCES.statefulSet,
      { spec: { replicas: 2, template: {}, volumeClaimTemplates: [] }, status: { readyReplicas: 1 } },
      { spec: { replicas: 2, volumeClaimTemplates: [] }, status: { readyReplicas: 1 } },
    ],
    [
      'a Secret: its type and data',
      RESOURCES.secret,
      { type: 'Opaque', data: { k: 'dg==' }, immutable: true },
      { type: 'Opaque', data: { k: 'dg==' } },
    ],
    ['a ConfigMap: its metadata only', RESOURCES.configMap, { data: { k: 'v' } }, {}],
  ])('keeps of %s', (_what, r, fields, expected) => {
    const o = { apiVersion: 'v1', kind: r.kind, metadata, ...fields };
    expect(cacheTransform(r)(o)).toEqual({ apiVersion: 'v1', kind: r.kind, metadata: kept, ...expected });
  });

  it('keeps the custom resources whole but for the bookkeeping fields', () => {
    const o = { apiVersion: 'veloz.io/v1alpha1', kind: 'VelozDeployment', metadata, spec: { pairs: 1 } };
    const { managedFields: _dropped, ...rest } = metadata;
    expect(cacheTransform(RESOURCES.velozDeployment)(o)).toEqual({ ...o, metadata: rest });
  });

  it("shares equal labels and owner references between a desk's children, frozen", () => {
    // As parsed off the wire: equal values, distinct objects.
    const child = (kind: string) =>
      cacheTransform(RESOURCES.service)(JSON.parse(JSON.stringify({ apiVersion: 'v1', kind, metadata })));
    const a = child('Service').metadata;
    const b = child('Service').metadata;
    expect(b.labels).toBe(a.labels);
    expect(b.ownerReferences).toBe(a.ownerReferences);
    expect(Object.isFrozen(a.labels) && Object.isFrozen(a.ownerReferences)).toBe(true);
  });

  it('knows which kinds are cached', () => {
    expect(isCached(RESOURCES.pod)).toBe(true);
    expect(isCached(RESOURCES.lease)).toBe(false);
    expect(isCached(RESOURCES.event)).toBe(false);
  });
});
