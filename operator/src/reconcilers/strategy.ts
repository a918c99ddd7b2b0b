// VelozStrategy: push the strategy to every targeted ready engine (idempotent PUT carrying the
// generation as its version), read its state back into status, and on deletion stop it and
// cancel its orders on every engine before the finalizer goes.
import type {
  Condition,
  StrategyEngineStatus,
  VelozDeployment,
  VelozStrategy,
  VelozStrategyStatus,
} from '@veloz/api/generated/types';
import { names } from '@veloz/api/names';
import type { Logger } from 'pino';
import { podReady, type ObjectCache, type PodLike } from '../cache.ts';
import { EngineUnreachableError, type EngineAccess } from '../engine-access.ts';
import type { KubeClient } from '../kube/client.ts';
import { RESOURCES, splitKey } from '../kube/resources.ts';
import type { Reconciler, ReconcileResult } from '../runtime/controller.ts';
import { mergeConditions, type ConditionInput } from '../status/conditions.ts';
import { sameState } from '../status/equal.ts';
import { sumDecimals } from './decimal-sum.ts';
import { EventBatch, recordTransitions, type EventRecorder } from './events.ts';

export const STRATEGY_FINALIZER = 'veloz.io/strategy-cleanup';
/** How often engines are asked for fresh positions and PnL. */
export const STRATEGY_POLL_MS = 15_000;

interface EngineStrategyView {
  name: string;
  version: number;
  state: string;
  position: string;
  realizedPnl: string;
  unrealizedPnl: string;
  ordersPlaced: number;
  openOrders: number;
  lastError: string;
  enabled: boolean;
}

export type StrategyWriter = Pick<KubeClient, 'mergePatch' | 'applyStatus'>;

export interface StrategyReconcilerDeps {
  cache: ObjectCache;
  writer: StrategyWriter;
  engines: EngineAccess;
  events: EventRecorder;
  log: Logger;
  now: () => Date;
}

const cond = (type: string, ok: boolean, reason: string, message: string): ConditionInput => ({
  type,
  status: ok ? 'True' : 'False',
  reason,
  message,
});

type StrategyObject = VelozStrategy & {
  metadata: { name?: string; namespace?: string; deletionTimestamp?: string; finalizers?: string[] };
};

export class StrategyReconciler implements Reconciler {
  readonly kind = 'VelozStrategy';
  private readonly d: StrategyReconcilerDeps;

  constructor(deps: StrategyReconcilerDeps) {
    this.d = deps;
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const s = this.d.cache.get<StrategyObject>(RESOURCES.velozStrategy, namespace ?? '', name);
    if (!s) return;
    // Events are records, not steps: they are written alongside the rest of the pass.
    const events = new EventBatch(this.d.events, this.d.log);
    try {
      return await this.pass(s, events);
    } finally {
      await events.settled();
    }
  }

  private async pass(s: StrategyObject, events: EventBatch): Promise<ReconcileResult | void> {
    const ns = s.metadata.namespace ?? '';
    const name = s.metadata.name ?? '';
    const dep = this.d.cache.get<VelozDeployment>(RESOURCES.velozDeployment, ns, s.spec.deploymentRef.name);
    if (s.metadata.deletionTimestamp) return this.finalize(s, dep, events);
    if (!s.metadata.finalizers?.includes(STRATEGY_FINALIZER)) {
      await this.d.writer.mergePatch(RESOURCES.velozStrategy, ns, name, {
        metadata: { finalizers: [...(s.metadata.finalizers ?? []), STRATEGY_FINALIZER] },
      });
    }
    if (!dep) {
      await this.writeStatus(
        s,
        events,
        [
          cond(
            'Accepted',
            false,
            'DeploymentNotFound',
            `VelozDeployment ${s.spec.deploymentRef.name} not found`,
          ),
        ],
        [],
      );
      return { requeueAfterMs: 30_000 };
    }
    if (!dep.spec.market.symbols.includes(s.spec.symbol)) {
      await this.writeStatus(
        s,
        events,
        [
          cond(
            'Accepted',
            false,
            'SymbolNotTraded',
            `${s.spec.symbol} is not among ${dep.spec.market.symbols.join(', ')} of ${dep.metadata?.name}`,
          ),
        ],
        [],
      );
      return;
    }
    const engines: StrategyEngineStatus[] = [];
    const unreachable: string[] = [];
    const rejected: string[] = [];
    const targets = this.targets(s, dep);
    for (const pair of targets) {
      const pod = names(s.spec.deploymentRef.name).enginePod(pair);
      if (!podReady(this.d.cache.get<PodLike>(RESOURCES.pod, ns, pod))) {
        engines.push({ pair, state: 'pending', lastError: `engine ${pod} is not ready` });
        continue;
      }
      try {
        const { pushed, ...view } = await this.sync(ns, pod, s);
        engines.push({ pair, ...view });
        if (view.state === 'rejected') rejected.push(`engine ${pod} rejected it: ${view.lastError}`);
        else if (pushed) events.record(s, 'Normal', 'Synced', `version ${pushed} pushed to engine ${pod}`);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        unreachable.push(msg);
        engines.push({ pair, state: 'unreachable', lastError: msg });
      }
    }
    const running = engines.filter((e) => e.state === 'running').length;
    await this.writeStatus(
      s,
      events,
      [
        cond('Accepted', true, 'Accepted', `runs on ${engines.length} engine(s) of ${dep.metadata?.name}`),
        this.running(s, dep, targets.length, running, rejected.length),
        rejected.length
          ? cond('Degraded', true, 'EngineRejected', rejected.join('; '))
          : unreachable.length
            ? cond('Degraded', true, 'EngineUnreachable', unreachable.join('; '))
            : cond('Degraded', false, 'AsExpected', ''),
      ],
      engines,
    );
    if (unreachable.length) throw new EngineUnreachableError(unreachable.join('; '));
    // A rejected spec is polled like a running one: the engine answers the same until it changes.
    return { requeueAfterMs: STRATEGY_POLL_MS };
  }

  private running(
    s: VelozStrategy,
    dep: VelozDeployment,
    targets: number,
    running: number,
    rejected: number,
  ): ConditionInput {
    if (!s.spec.enabled) return cond('Running', false, 'Paused', 'spec.enabled is false');
    if (targets === 0) {
      const which = s.spec.pairs?.length ? `pairs ${s.spec.pairs.join(', ')} of` : 'any pair of';
      return cond(
        'Running',
        false,
        'NoEngines',
        `no engine to run on: ${dep.metadata?.name} has ${dep.spec.pairs} pair(s), the strategy asks for ${which} it`,
      );
    }
    if (rejected > 0) return cond('Running', false, 'Rejected', `${rejected}/${targets} engines rejected it`);
    const message = `${running}/${targets} engines running`;
    return running === targets
      ? cond('Running', true, 'AllEnginesRunning', message)
      : cond('Running', false, 'EnginesPending', message);
  }

  private targets(s: VelozStrategy, dep: VelozDeployment): number[] {
    const all = Array.from({ length: dep.spec.pairs }, (_, i) => i);
    return s.spec.pairs?.length ? all.filter((i) => s.spec.pairs!.includes(i)) : all;
  }

  /** Makes the engine's copy match the CR; returns what the engine reports, and the version pushed. */
  private async sync(
    ns: string,
    pod: string,
    s: VelozStrategy,
  ): Promise<Omit<StrategyEngineStatus, 'pair'> & { pushed?: number }> {
    const name = s.metadata?.name ?? '';
    const path = `/api/strategies/${encodeURIComponent(name)}`;
    const version = s.metadata?.generation ?? 1;
    const body = {
      type: s.spec.type,
      symbol: s.spec.symbol,
      version,
      enabled: s.spec.enabled,
      params: Object.fromEntries(Object.entries(s.spec.params).filter(([, v]) => v !== undefined)),
      risk: Object.fromEntries(Object.entries(s.spec.risk ?? {}).filter(([, v]) => v !== undefined)),
    };
    let cur = await this.d.engines.call<EngineStrategyView>(ns, pod, 'GET', path);
    if (cur.status === 200 && cur.body.version > version) {
      // The engine ran a newer incarnation of this name (the CR was recreated): the CR wins.
      await this.d.engines.call(ns, pod, 'DELETE', path);
      cur = { status: 404, body: cur.body };
    }
    let pushed: number | undefined;
    if (cur.status === 404 || cur.body.version !== version) {
      cur = await this.d.engines.call<EngineStrategyView>(ns, pod, 'PUT', path, body);
      if (cur.status >= 400) {
        const err = (cur.body as unknown as { error?: string }).error ?? `HTTP ${cur.status}`;
        return { state: 'rejected', lastError: err };
      }
      pushed = version;
    } else if (cur.status >= 400) {
      throw new EngineUnreachableError(`engine ${pod}: GET ${path} answered ${cur.status}`);
    }
    const v = cur.body;
    return {
      state: v.state,
      position: v.position,
      realizedPnl: v.realizedPnl,
      unrealizedPnl: v.unrealizedPnl,
      ordersPlaced: v.ordersPlaced,
      ...(v.lastError ? { lastError: v.lastError } : {}),
      ...(pushed !== undefined ? { pushed } : {}),
    };
  }

  private async finalize(
    s: StrategyObject,
    dep: VelozDeployment | undefined,
    events: EventBatch,
  ): Promise<void> {
    if (!s.metadata.finalizers?.includes(STRATEGY_FINALIZER)) return;
    const ns = s.metadata.namespace ?? '';
    const name = s.metadata.name ?? '';
    const problems: string[] = [];
    for (const pair of dep ? this.targets(s, dep) : []) {
      const pod = names(s.spec.deploymentRef.name).enginePod(pair);
      const p = this.d.cache.get<PodLike>(RESOURCES.pod, ns, pod);
      // A pod that is gone took its orders' engine with it; nothing can be cancelled there.
      if (!p) continue;
      try {
        const res = await this.d.engines.call(
          ns,
          pod,
          'DELETE',
          `/api/strategies/${encodeURIComponent(name)}`,
        );
        if (res.status !== 200 && res.status !== 404)
          problems.push(`engine ${pod}: DELETE answered ${res.status}`);
      } catch (err) {
        problems.push(err instanceof Error ? err.message : String(err));
      }
    }
    if (problems.length) {
      await this.writeStatus(
        s,
        events,
        [cond('Degraded', true, 'CleanupPending', `cannot stop the strategy yet: ${problems.join('; ')}`)],
        s.status?.engines ?? [],
      );
      throw new EngineUnreachableError(problems.join('; '));
    }
    await this.d.writer.mergePatch(RESOURCES.velozStrategy, ns, name, {
      metadata: {
        finalizers: s.metadata.finalizers.filter((f) => f !== STRATEGY_FINALIZER),
        resourceVersion: s.metadata.resourceVersion,
      },
    });
    events.record(s, 'Normal', 'Stopped', 'stopped on every engine, its open orders cancelled');
  }

  private async writeStatus(
    s: VelozStrategy,
    events: EventBatch,
    conds: ConditionInput[],
    engines: StrategyEngineStatus[],
  ): Promise<void> {
    const gen = s.metadata?.generation ?? 0;
    const previous = s.status?.conditions ?? [];
    const kept: Condition[] = previous.filter((p) => !conds.some((c) => c.type === p.type));
    const status: VelozStrategyStatus = {
      observedGeneration: gen,
      conditions: [...mergeConditions(previous, conds, gen, this.d.now().toISOString()), ...kept].sort(
        (a, b) => a.type.localeCompare(b.type),
      ),
      engines,
      runningEngines: engines.filter((e) => e.state === 'running').length,
      position: sumDecimals(engines.map((e) => e.position)),
      realizedPnl: sumDecimals(engines.map((e) => e.realizedPnl)),
      unrealizedPnl: sumDecimals(engines.map((e) => e.unrealizedPnl)),
      ordersPlaced: engines.reduce((n, e) => n + (e.ordersPlaced ?? 0), 0),
    };
    recordTransitions(
      events,
      s,
      s.status?.conditions,
      status.conditions,
      ['Accepted', 'Running', 'Degraded'],
      ['EnginesPending'],
    );
    if (sameState(status, s.status)) return;
    await this.d.writer.applyStatus(
      RESOURCES.velozStrategy,
      s.metadata?.namespace ?? '',
      s.metadata?.name ?? '',
      status,
    );
  }
}
