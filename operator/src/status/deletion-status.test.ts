import type { Condition, VelozDeployment } from '@veloz/api/generated/types';
import { describe, expect, it } from 'vitest';
import { deletingStatus } from './deletion-status.ts';

const ready: Condition = {
  type: 'Ready',
  status: 'True',
  reason: 'AllPairsReady',
  message: '2/2 pairs ready',
  observedGeneration: 3,
  lastTransitionTime: '2026-11-21T09:00:00Z',
};
const desk = (conditions: Condition[] = [ready]): VelozDeployment =>
  ({
    apiVersion: 'veloz.io/v1alpha1',
    kind: 'VelozDeployment',
    // Marking it for deletion bumped the generation.
    metadata: { name: 'desk', namespace: 'ns', generation: 4 },
    spec: { pairs: 2 },
    status: { observedGeneration: 3, phase: 'Ready', readyPairs: 2, conditions },
  }) as VelozDeployment;
const T1 = '2026-11-21T10:00:00.000Z';
const T2 = '2026-11-21T10:05:00.000Z';

describe('deletingStatus', () => {
  it('adds Deleting to the last status, which it keeps, for the generation marked for deletion', () => {
    const st = deletingStatus(desk(), [{ name: 'a' }, { name: 'b' }], T1);
    expect(st).toMatchObject({ observedGeneration: 4, phase: 'Ready', readyPairs: 2 });
    expect(st.conditions).toEqual([
      ready,
      {
        type: 'Deleting',
        status: 'True',
        reason: 'StrategiesStopping',
        message: 'stopping VelozStrategy a, b and cancelling their open orders first',
        observedGeneration: 4,
        lastTransitionTime: T1,
      },
    ]);
  });

  it('names the strategies that wait on an engine, and the annotation that lets the deletion go', () => {
    const stopping = deletingStatus(desk(), [{ name: 'a' }], T1);
    const st = deletingStatus(
      desk(stopping.conditions),
      [
        { name: 'a', blocked: 'cannot stop the strategy yet: engine desk-engine-1: timed out' },
        { name: 'b' },
      ],
      T2,
    );
    const deleting = st.conditions!.find((c) => c.type === 'Deleting')!;
    expect(deleting).toMatchObject({ reason: 'CleanupBlocked', lastTransitionTime: T1 });
    expect(deleting.message).toBe(
      'VelozStrategy a: cannot stop the strategy yet: engine desk-engine-1: timed out. The deletion waits ' +
        'until the engine answers; to let it go anyway, leaving the strategy running there and its orders ' +
        'possibly open on the exchange: kubectl annotate vzd desk veloz.io/abandon-engines=true',
    );
  });
});
