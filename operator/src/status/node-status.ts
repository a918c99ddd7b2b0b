// A pair is lost with its engine's node: per pair NodeReady, and the desk's PairLost, from what
// the Node informer last saw. Nothing is replaced automatically (the engine's WAL volume may be
// node-local, and a second engine on the account must never run beside one that may be alive,
// ADR 0018): the conditions point at the runbook, where a person decides.
import type { Condition, PairStatus } from '@veloz/api/generated/types';
import { conditionOf, type ConditionInput } from './conditions.ts';

export const NODE_READY = 'NodeReady';
export const PAIR_LOST = 'PairLost';
export const NODE_LOSS_RUNBOOK = 'docs/runbooks/node-loss.md';

/** A node's Ready condition as cached; undefined status: it has not reported one. */
export interface NodeReadiness {
  status: string | undefined;
  since?: string | undefined;
  reason?: string | undefined;
  message?: string | undefined;
}

/** Where a pair's engine pod runs. `node` undefined: not bound yet; `readiness` undefined: the Node is gone. */
export interface EnginePlacement {
  pod: string;
  node?: string | undefined;
  readiness?: NodeReadiness | undefined;
}

/**
 * What the operator sees of the engines' nodes: nothing when it may not read Nodes (RBAC);
 * otherwise, per pair index, its engine pod's placement (absent: no engine pod).
 */
export type NodesObservation =
  { readable: false } | { readable: true; engines: ReadonlyMap<number, EnginePlacement> };

const cond = (status: ConditionInput['status'], reason: string, message: string): ConditionInput => ({
  type: NODE_READY,
  status,
  reason,
  message,
});

/**
 * One pair's NodeReady. `prev`, the pair's last NodeReady: a pair lost with its node stays lost
 * while its replacement pod waits for a node (a node-local volume that cannot follow it, a
 * force-deleted pod not rescheduled yet), until its engine runs on a Ready node again.
 */
export function pairNodeCondition(
  nodes: NodesObservation,
  index: number,
  enginePod: string,
  prev?: Condition,
): ConditionInput {
  if (!nodes.readable)
    return cond(
      'Unknown',
      'NodesNotReadable',
      'the operator may not list and watch Nodes (chart value rbac.nodes=false): node loss is not detected',
    );
  const at = nodes.engines.get(index);
  const pod = at?.pod ?? enginePod;
  if (!at?.node && prev?.status === 'False')
    return cond(
      'False',
      prev.reason,
      `engine pod ${pod} is not bound to a node: the pair stays lost (${prev.reason}) until its engine runs on a Ready node`,
    );
  if (!at?.node) return cond('Unknown', 'PodNotScheduled', `engine pod ${pod} is not bound to a node`);
  const on = `engine pod ${at.pod} on node ${at.node}`;
  if (!at.readiness) return cond('False', 'NodeDeleted', `${on}: the Node no longer exists`);
  const r = at.readiness;
  if (r.status === 'True') return cond('True', 'NodeReady', `${on}: Ready`);
  const state = r.status === undefined ? 'has reported no Ready condition' : `Ready=${r.status}`;
  const since = r.since ? ` since ${r.since}` : '';
  const why = [r.reason, r.message].filter(Boolean).join(': ');
  return cond('False', 'NodeNotReady', `${on}: ${state}${since}${why ? ` (${why})` : ''}`);
}

/**
 * The desk's PairLost: True when any pair's engine is on a node that is not Ready or is gone.
 * Where Nodes may not be read, nothing is known to be lost, and the message says so.
 */
export function pairLostCondition(nodes: NodesObservation, pairs: readonly PairStatus[]): ConditionInput {
  const c = (status: ConditionInput['status'], reason: string, message: string): ConditionInput => ({
    type: PAIR_LOST,
    status,
    reason,
    message,
  });
  if (!nodes.readable)
    return c('False', 'NoPairLost', 'Nodes are not readable (rbac.nodes=false): node loss is not detected');
  const lost = pairs.flatMap((p) => {
    const nr = conditionOf(p.conditions, NODE_READY);
    return nr?.status === 'False' ? [{ index: p.index, reason: nr.reason, message: nr.message }] : [];
  });
  if (lost.length === 0) {
    const unbound = pairs.filter((p) => conditionOf(p.conditions, NODE_READY)?.status !== 'True');
    return c(
      'False',
      'NoPairLost',
      unbound.length === 0
        ? "every pair's engine is on a Ready node"
        : `no pair's engine is on a lost node; not bound to a node yet: ${unbound.map((p) => `pair ${p.index}`).join(', ')}`,
    );
  }
  // NodeNotReady first: such a node may come back, the runbook's first question.
  const reason = lost.some((l) => l.reason === 'NodeNotReady') ? 'NodeNotReady' : 'NodeDeleted';
  const list = lost.map((l) => `pair ${l.index}: ${l.message}`).join('; ');
  return c(
    'True',
    reason,
    `${lost.length} pair${lost.length > 1 ? 's' : ''} lost with ${lost.length > 1 ? 'their nodes' : 'its node'}: ${list}. Nothing is replaced automatically: see ${NODE_LOSS_RUNBOOK}`,
  );
}
