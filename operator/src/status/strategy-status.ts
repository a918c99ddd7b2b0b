// The VelozStrategy status as a pure function of the resource and what was observed: its
// deployment, and what each targeted engine answered. Conditions not decided by a pass (Running
// and Degraded while the strategy is not accepted) keep their last state.
import type {
  Condition,
  StrategyEngineStatus,
  VelozStrategy,
  VelozStrategyStatus,
} from '@veloz/api/generated/types';
import { mergeConditions, type ConditionInput } from './conditions.ts';
import { sumDecimals } from './decimal-sum.ts';

/** What the strategy needs to know of its VelozDeployment. */
export interface DeploymentFacts {
  name: string;
  pairs: number;
  symbols: readonly string[];
}

export interface ObservedStrategy {
  /** The VelozDeployment spec.deploymentRef names; undefined when there is none. */
  deployment: DeploymentFacts | undefined;
  /** One per targeted pair: what its engine reported, or why it was not asked (pending). */
  engines: StrategyEngineStatus[];
  /** One message per engine that rejected the spec. */
  rejected: string[];
  /** One message per engine that could not be reached. */
  unreachable: string[];
}

const cond = (type: string, ok: boolean, reason: string, message: string): ConditionInput => ({
  type,
  status: ok ? 'True' : 'False',
  reason,
  message,
});

/** Whether the strategy can run on `deployment` at all: only then are its engines asked. */
export function runsOn(
  s: VelozStrategy,
  deployment: DeploymentFacts | undefined,
): deployment is DeploymentFacts {
  return !!deployment && deployment.symbols.includes(s.spec.symbol);
}

function notAccepted(s: VelozStrategy, deployment: DeploymentFacts | undefined): ConditionInput {
  return deployment
    ? cond(
        'Accepted',
        false,
        'SymbolNotTraded',
        `${s.spec.symbol} is not among ${deployment.symbols.join(', ')} of ${deployment.name}`,
      )
    : cond('Accepted', false, 'DeploymentNotFound', `VelozDeployment ${s.spec.deploymentRef.name} not found`);
}

function running(s: VelozStrategy, deployment: DeploymentFacts, o: ObservedStrategy): ConditionInput {
  const targets = o.engines.length;
  if (!s.spec.enabled) return cond('Running', false, 'Paused', 'spec.enabled is false');
  if (targets === 0) {
    const which = s.spec.pairs?.length ? `pairs ${s.spec.pairs.join(', ')} of` : 'any pair of';
    return cond(
      'Running',
      false,
      'NoEngines',
      `no engine to run on: ${deployment.name} has ${deployment.pairs} pair(s), the strategy asks for ${which} it`,
    );
  }
  if (o.rejected.length > 0)
    return cond('Running', false, 'Rejected', `${o.rejected.length}/${targets} engines rejected it`);
  const haltedEngines = o.engines.filter((e) => e.halt).length;
  if (haltedEngines > 0)
    return cond('Running', false, 'Halted', `${haltedEngines}/${targets} engines halted by a guardrail`);
  const runningEngines = o.engines.filter((e) => e.state === 'running').length;
  const message = `${runningEngines}/${targets} engines running`;
  return runningEngines === targets
    ? cond('Running', true, 'AllEnginesRunning', message)
    : cond('Running', false, 'EnginesPending', message);
}

/** Halted: which guardrail holds the strategy on which engine, with the value that crossed it. */
function halted(o: ObservedStrategy): ConditionInput {
  const held = o.engines.filter((e) => e.halt);
  if (held.length === 0) return cond('Halted', false, 'NotHalted', 'no guardrail crossed');
  const each = held.map(
    (e) =>
      `pair ${e.pair}: ${e.halt!.guardrail} ${e.halt!.value} (limit ${e.halt!.limit}) at ${e.halt!.time ?? 'unknown time'}`,
  );
  const message = `${each.join('; ')}; its open orders were cancelled. To resume, set spec.resumeAfter to now (after fixing the cause)`;
  return cond('Halted', true, 'GuardrailCrossed', message);
}

function degraded(o: ObservedStrategy): ConditionInput {
  if (o.rejected.length) return cond('Degraded', true, 'EngineRejected', o.rejected.join('; '));
  if (o.unreachable.length) return cond('Degraded', true, 'EngineUnreachable', o.unreachable.join('; '));
  return cond('Degraded', false, 'AsExpected', '');
}

export function computeStrategyStatus(
  s: VelozStrategy,
  o: ObservedStrategy,
  now: string,
): VelozStrategyStatus {
  if (!runsOn(s, o.deployment)) return statusOf(s, [notAccepted(s, o.deployment)], [], now);
  const d = o.deployment;
  const accepted = cond('Accepted', true, 'Accepted', `runs on ${o.engines.length} engine(s) of ${d.name}`);
  return statusOf(s, [accepted, running(s, d, o), halted(o), degraded(o)], o.engines, now);
}

/** Being deleted, and some engines could not stop the strategy yet: the engines keep their last report. */
export function cleanupPendingStatus(s: VelozStrategy, problems: string[], now: string): VelozStrategyStatus {
  return statusOf(
    s,
    [cond('Degraded', true, 'CleanupPending', `cannot stop the strategy yet: ${problems.join('; ')}`)],
    s.status?.engines ?? [],
    now,
  );
}

function statusOf(
  s: VelozStrategy,
  conds: ConditionInput[],
  engines: StrategyEngineStatus[],
  now: string,
): VelozStrategyStatus {
  const gen = s.metadata?.generation ?? 0;
  const previous = s.status?.conditions ?? [];
  const kept: Condition[] = previous.filter((p) => !conds.some((c) => c.type === p.type));
  return {
    observedGeneration: gen,
    conditions: [...mergeConditions(previous, conds, gen, now), ...kept].sort((a, b) =>
      a.type.localeCompare(b.type),
    ),
    engines,
    runningEngines: engines.filter((e) => e.state === 'running').length,
    position: sumDecimals(engines.map((e) => e.position)),
    realizedPnl: sumDecimals(engines.map((e) => e.realizedPnl)),
    unrealizedPnl: sumDecimals(engines.map((e) => e.unrealizedPnl)),
    ordersPlaced: engines.reduce((n, e) => n + (e.ordersPlaced ?? 0), 0),
  };
}
