// VelozStrategy: push the strategy to every targeted ready engine (idempotent PUT carrying the
// generation as its version), read its state back into status, and on deletion stop it and
// cancel its orders on every engine before the finalizer goes.
import type {
  Condition,
  StrategyEngineStatus,
  VelozDeployment,
  VelozStrategy,
  VelozStrategyStatus,
} from '@veloz/cdk8s/src/generated/types.ts';
import type { Logger } from 'pino';
import { podReady, type ObjectCache, type PodLike } from '../cache.ts';
import { EngineUnreachableError, type EngineAccess } from '../engine-access.ts';
import type { KubeClient } from '../kube/client.ts';
import { RESOURCES, splitKey } from '../kube/resources.ts';
import type { Reconciler, ReconcileResult } from '../runtime/controller.ts';
import { mergeConditions, type ConditionInput } from '../status/conditions.ts';
import { sameState } from '../status/equal.ts';
import { sumDecimals } from './decimal-sum.ts';

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
  log: Logger;
  now: () => Date;
}

const cond = (type: string, ok: boolean, reason: string, message: string): ConditionInput => ({
  type,
  status: ok ? 'True' : 'False',
  reason,
  message,
});

export class StrategyReconciler implements Reconciler {
  readonly kind = 'VelozStrategy';
  private readonly d: StrategyReconcilerDeps;

  constructor(deps: StrategyReconcilerDeps) {
    this.d = deps;
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const ns = namespace ?? '';
    const s = this.d.cache.get<
      VelozStrategy & { metadata: { deletionTimestamp?: string; finalizers?: string[] } }
    >(RESOURCES.velozStrategy, ns, name);
    if (!s) return;
    const dep = this.d.cache.get<VelozDeployment>(RESOURCES.velozDeployment, ns, s.spec.deploymentRef.name);
    if (s.metadata.deletionTimestamp) return this.finalize(s, dep);
    if (!s.metadata.finalizers?.includes(STRATEGY_FINALIZER)) {
      await this.d.writer.mergePatch(RESOURCES.velozStrategy, ns, name, {
        metadata: { finalizers: [...(s.metadata.finalizers ?? []), STRATEGY_FINALIZER] },
      });
    }
    if (!dep) {
      await this.writeStatus(
        s,
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
    const problems: string[] = [];
    for (const pair of this.targets(s, dep)) {
      const pod = `${s.spec.deploymentRef.name}-engine-${pair}`;
      if (!podReady(this.d.cache.get<PodLike>(RESOURCES.pod, ns, pod))) {
        engines.push({ pair, state: 'pending', lastError: `engine ${pod} is not ready` });
        continue;
      }
      try {
        engines.push({ pair, ...(await this.sync(ns, pod, s)) });
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        problems.push(msg);
        engines.push({ pair, state: 'unreachable', lastError: msg });
      }
    }
    const running = engines.filter((e) => e.state === 'running').length;
    const paused = !s.spec.enabled;
    await this.writeStatus(
      s,
      [
        cond('Accepted', true, 'Accepted', `runs on ${engines.length} engine(s) of ${dep.metadata?.name}`),
        paused
          ? cond('Running', false, 'Paused', 'spec.enabled is false')
          : cond(
              'Running',
              running === engines.length && running > 0,
              running === engines.length ? 'AllEnginesRunning' : 'EnginesPending',
              `${running}/${engines.length} engines running`,
            ),
        problems.length
          ? cond('Degraded', true, 'EngineUnreachable', problems.join('; '))
          : cond('Degraded', false, 'AsExpected', ''),
      ],
      engines,
    );
    if (problems.length) throw new EngineUnreachableError(problems.join('; '));
    return { requeueAfterMs: STRATEGY_POLL_MS };
  }

  private targets(s: VelozStrategy, dep: VelozDeployment): number[] {
    const all = Array.from({ length: dep.spec.pairs }, (_, i) => i);
    return s.spec.pairs?.length ? all.filter((i) => s.spec.pairs!.includes(i)) : all;
  }

  /** Makes the engine's copy match the CR; returns what the engine reports. */
  private async sync(ns: string, pod: string, s: VelozStrategy): Promise<Omit<StrategyEngineStatus, 'pair'>> {
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
    if (cur.status === 404 || cur.body.version !== version) {
      cur = await this.d.engines.call<EngineStrategyView>(ns, pod, 'PUT', path, body);
      if (cur.status >= 400) {
        const err = (cur.body as unknown as { error?: string }).error ?? `HTTP ${cur.status}`;
        return { state: 'rejected', lastError: err };
      }
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
    };
  }

  private async finalize(
    s: VelozStrategy & { metadata: { finalizers?: string[] } },
    dep: VelozDeployment | undefined,
  ): Promise<void> {
    if (!s.metadata.finalizers?.includes(STRATEGY_FINALIZER)) return;
    const ns = s.metadata.namespace ?? '';
    const name = s.metadata.name ?? '';
    const problems: string[] = [];
    for (const pair of dep ? this.targets(s, dep) : []) {
      const pod = `${s.spec.deploymentRef.name}-engine-${pair}`;
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
  }

  private async writeStatus(
    s: VelozStrategy,
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
    if (sameState(status, s.status)) return;
    await this.d.writer.applyStatus(
      RESOURCES.velozStrategy,
      s.metadata?.namespace ?? '',
      s.metadata?.name ?? '',
      status,
    );
  }
}
