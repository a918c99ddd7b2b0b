import type { VelozDeployment } from '@veloz/api/generated/types';
import { names } from '@veloz/api/names';
import { deskResource, observedDesk } from '@veloz/testing/observed-desk';
import { describe, expect, it } from 'vitest';
import { computeDeploymentStatus, type ObservedDeployment } from './deployment-status.ts';
import type { EnginePlacement, NodesObservation } from './node-status.ts';

const NOW = '2026-11-21T10:00:00.000Z';
const n = names('desk');

const deployment = (status?: VelozDeployment['status']): VelozDeployment => ({
  ...deskResource(),
  ...(status ? { status } : {}),
});

const observed = (nodes: NodesObservation | undefined): ObservedDeployment =>
  observedDesk(nodes ? { nodes } : {});

const ready = (i: number, node = `w${i}`): EnginePlacement => ({
  pod: n.enginePod(i),
  node,
  readiness: { status: 'True', since: '2026-11-21T08:00:00Z' },
});
const placed = (...engines: Array<EnginePlacement | undefined>): NodesObservation => ({
  readable: true,
  engines: new Map(engines.flatMap((e, i) => (e ? [[i, e] as const] : []))),
});

const status = (nodes: NodesObservation | undefined, d = deployment()) =>
  computeDeploymentStatus(d, observed(nodes), NOW);
const nodeReady = (s: ReturnType<typeof status>, i: number) =>
  s.pairs?.[i]?.conditions?.find((c) => c.type === 'NodeReady');
const pairLost = (s: ReturnType<typeof status>) => s.conditions?.find((c) => c.type === 'PairLost');
const brief = (c: { status: string; reason: string } | undefined) => `${c?.status}/${c?.reason}`;

describe('NodeReady and PairLost', () => {
  it('every engine on a Ready node: NodeReady True, PairLost False', () => {
    const s = status(placed(ready(0), ready(1)));
    expect(brief(nodeReady(s, 0))).toBe('True/NodeReady');
    expect(nodeReady(s, 1)?.message).toBe(`engine pod ${n.enginePod(1)} on node w1: Ready`);
    expect(brief(pairLost(s))).toBe('False/NoPairLost');
  });

  it.each([
    ['False', 'Ready=False since 2026-11-21T09:58:00Z (KubeletNotReady: PLEG is not healthy)'],
    [
      'Unknown',
      'Ready=Unknown since 2026-11-21T09:58:00Z (NodeStatusUnknown: Kubelet stopped posting node status.)',
    ],
  ])('a node with Ready %s: the pair NodeNotReady, naming node and since when; PairLost True', (st, text) => {
    const why =
      st === 'False'
        ? { reason: 'KubeletNotReady', message: 'PLEG is not healthy' }
        : { reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' };
    const s = status(
      placed(ready(0), {
        pod: n.enginePod(1),
        node: 'w1',
        readiness: { status: st, since: '2026-11-21T09:58:00Z', ...why },
      }),
    );
    expect(brief(nodeReady(s, 0))).toBe('True/NodeReady');
    expect(brief(nodeReady(s, 1))).toBe('False/NodeNotReady');
    expect(nodeReady(s, 1)?.message).toBe(`engine pod ${n.enginePod(1)} on node w1: ${text}`);
    expect(brief(pairLost(s))).toBe('True/NodeNotReady');
    expect(pairLost(s)?.message).toBe(
      `1 pair lost with its node: pair 1: engine pod ${n.enginePod(1)} on node w1: ${text}. Nothing is replaced automatically: see docs/runbooks/node-loss.md`,
    );
  });

  it('a node that has reported no Ready condition is not Ready', () => {
    const s = status(placed(ready(0), { pod: n.enginePod(1), node: 'w1', readiness: { status: undefined } }));
    expect(nodeReady(s, 1)?.message).toBe(
      `engine pod ${n.enginePod(1)} on node w1: has reported no Ready condition`,
    );
    expect(brief(pairLost(s))).toBe('True/NodeNotReady');
  });

  it('a pod bound to a deleted node: NodeDeleted, and PairLost NodeDeleted', () => {
    const s = status(placed(ready(0), { pod: n.enginePod(1), node: 'w1' }));
    expect(brief(nodeReady(s, 1))).toBe('False/NodeDeleted');
    expect(nodeReady(s, 1)?.message).toBe(
      `engine pod ${n.enginePod(1)} on node w1: the Node no longer exists`,
    );
    expect(brief(pairLost(s))).toBe('True/NodeDeleted');
  });

  it('two pairs lost, one node deleted and one not Ready: NodeNotReady, both named', () => {
    const s = status(
      placed(
        { pod: n.enginePod(0), node: 'w0' },
        { pod: n.enginePod(1), node: 'w1', readiness: { status: 'Unknown' } },
      ),
    );
    expect(brief(pairLost(s))).toBe('True/NodeNotReady');
    expect(pairLost(s)?.message).toMatch(
      /^2 pairs lost with their nodes: pair 0: .* node w0: .*; pair 1: .* node w1: /,
    );
  });

  it('an engine pod not bound yet, or not there: NodeReady Unknown PodNotScheduled, nothing lost', () => {
    const s = status(placed({ pod: n.enginePod(0) }, undefined));
    expect(brief(nodeReady(s, 0))).toBe('Unknown/PodNotScheduled');
    expect(brief(nodeReady(s, 1))).toBe('Unknown/PodNotScheduled');
    expect(nodeReady(s, 1)?.message).toBe(`engine pod ${n.enginePod(1)} is not bound to a node`);
    expect(brief(pairLost(s))).toBe('False/NoPairLost');
  });

  it('Nodes not readable: NodeReady Unknown NodesNotReadable, and nothing else changes', () => {
    const lostBefore = status(placed(ready(0), { pod: n.enginePod(1), node: 'w1' }));
    const s = status({ readable: false }, deployment(lostBefore));
    expect(brief(nodeReady(s, 0))).toBe('Unknown/NodesNotReadable');
    expect(brief(nodeReady(s, 1))).toBe('Unknown/NodesNotReadable');
    expect(brief(pairLost(s))).toBe('False/NoPairLost');
    // Every other condition, and the rest of the status, as without node observations.
    const without = status(undefined);
    const other = (x: ReturnType<typeof status>) => ({
      ...x,
      conditions: x.conditions?.filter((c) => c.type !== 'PairLost'),
      pairs: x.pairs?.map((p) => ({ ...p, conditions: p.conditions?.filter((c) => c.type !== 'NodeReady') })),
    });
    expect(other(status({ readable: false }))).toEqual(other(without));
  });

  it('a lost pair stays lost while its replacement pod waits for a node, until it runs on a Ready one', () => {
    const lost = status(placed(ready(0), { pod: n.enginePod(1), node: 'w1' }));
    expect(brief(pairLost(lost))).toBe('True/NodeDeleted');
    const waiting = status(placed(ready(0), { pod: n.enginePod(1) }), deployment(lost));
    expect(brief(nodeReady(waiting, 1))).toBe('False/NodeDeleted');
    expect(nodeReady(waiting, 1)?.message).toBe(
      `engine pod ${n.enginePod(1)} is not bound to a node: the pair stays lost (NodeDeleted) until its engine runs on a Ready node`,
    );
    expect(brief(pairLost(waiting))).toBe('True/NodeDeleted');
    // No pod at all (deleted, not recreated yet): still lost.
    expect(brief(pairLost(status(placed(ready(0)), deployment(waiting))))).toBe('True/NodeDeleted');
    const back = status(placed(ready(0), ready(1, 'w2')), deployment(waiting));
    expect(brief(nodeReady(back, 1))).toBe('True/NodeReady');
    expect(pairLost(back)).toMatchObject({
      status: 'False',
      message: "every pair's engine is on a Ready node",
    });
  });

  it('a pair never lost and not scheduled yet is not lost, and PairLost says it waits', () => {
    const s = status(placed(ready(0)));
    expect(pairLost(s)).toMatchObject({
      status: 'False',
      reason: 'NoPairLost',
      message: "no pair's engine is on a lost node; not bound to a node yet: pair 1",
    });
  });

  it('not observed at all: neither condition is written', () => {
    const s = status(undefined);
    expect(pairLost(s)).toBeUndefined();
    expect(nodeReady(s, 0)).toBeUndefined();
  });

  it('keeps lastTransitionTime while the node stays lost, and moves it when it recovers', () => {
    const lost = placed(ready(0), { pod: n.enginePod(1), node: 'w1', readiness: { status: 'Unknown' } });
    const first = computeDeploymentStatus(deployment(), observed(lost), '2026-11-21T09:00:00.000Z');
    const again = status(lost, deployment(first));
    expect(pairLost(again)?.lastTransitionTime).toBe('2026-11-21T09:00:00.000Z');
    expect(nodeReady(again, 1)?.lastTransitionTime).toBe('2026-11-21T09:00:00.000Z');
    const back = status(placed(ready(0), ready(1)), deployment(again));
    expect(brief(pairLost(back))).toBe('False/NoPairLost');
    expect(pairLost(back)?.lastTransitionTime).toBe(NOW);
  });
});
