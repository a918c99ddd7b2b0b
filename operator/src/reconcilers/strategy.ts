// VelozStrategy: push the strategy to every targeted ready engine (idempotent PUT carrying the
// generation as its version), read its state back into status, and on deletion stop it and
// cancel its orders on every engine before the finalizer goes.
import { names } from '@veloz/api/names';
import type { StrategyEngineStatus, VelozStrategy, VelozStrategyStatus } from '@veloz/api/generated/types';
import type { Strategy } from '@veloz/api/http/contract';
import type { Logger } from 'pino';
import { ABANDON_ENGINES, annotated } from '../annotations.ts';
import { podReady, type ObjectCache } from '../cache.ts';
import type { CachedDeployment, CachedStrategy } from '../cache-transforms.ts';
import { EngineUnreachableError, type EngineAccess } from '../engine-access.ts';
import type { KubeClient } from '../kube/client.ts';
import { RESOURCES, splitKey } from '../kube/resources.ts';
import type { Reconciler, ReconcileResult } from '../runtime/controller.ts';
import { conditionOf } from '../status/conditions.ts';
import {
  cleanupPendingStatus,
  computeStrategyStatus,
  runsOn,
  type DeploymentFacts,
  type ObservedStrategy,
} from '../status/strategy-status.ts';
import { EventBatch, recordTransitions, type EventRecorder } from './events.ts';
import { strategyBody } from './strategy-body.ts';
import { addDeskFinalizer, deskGoesUnguarded } from './desk-finalizer.ts';
import { WrittenStatus } from './written-status.ts';

export const STRATEGY_FINALIZER = 'veloz.io/strategy-cleanup';
/** How often engines are asked for fresh positions and PnL. */
export const STRATEGY_POLL_MS = 15_000;

export type StrategyWriter = Pick<KubeClient, 'mergePatch' | 'applyStatus'>;

export interface StrategyReconcilerDeps {
  cache: ObjectCache;
  writer: StrategyWriter;
  engines: EngineAccess;
  events: EventRecorder;
  log: Logger;
  now: () => Date;
}

export class StrategyReconciler implements Reconciler {
  readonly kind = 'VelozStrategy';
  private readonly d: StrategyReconcilerDeps;
  /** The cache lags this reconciler's own status writes: Events and no-op checks see both. */
  private readonly written = new WrittenStatus();

  constructor(deps: StrategyReconcilerDeps) {
    this.d = deps;
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const s = this.d.cache.get(RESOURCES.velozStrategy, namespace ?? '', name);
    if (!s) {
      this.written.forget(namespace ?? '', name);
      return;
    }
    // Events are records, not steps: they are written alongside the rest of the pass.
    const events = new EventBatch(this.d.events, this.d.log);
    try {
      return await this.pass(s, events);
    } finally {
      await events.settled();
    }
  }

  private async pass(s: CachedStrategy, events: EventBatch): Promise<ReconcileResult | void> {
    const ns = s.metadata.namespace ?? '';
    const name = s.metadata.name ?? '';
    const dep = this.d.cache.get(RESOURCES.velozDeployment, ns, s.spec.deploymentRef.name);
    const deployment: DeploymentFacts | undefined = dep && {
      name: dep.metadata.name ?? '',
      pairs: dep.spec.pairs,
      symbols: dep.spec.market.symbols,
    };
    if (s.metadata.deletionTimestamp) return this.finalize(s, deployment, dep, events);
    if (!s.metadata.finalizers?.includes(STRATEGY_FINALIZER)) {
      await this.d.writer.mergePatch(RESOURCES.velozStrategy, ns, name, {
        metadata: { finalizers: [...(s.metadata.finalizers ?? []), STRATEGY_FINALIZER] },
      });
    }
    // The desk's finalizer stops this strategy before the desk's engines go (and with it its
    // orders): in place before the strategy runs anywhere, so no deletion slips between.
    if (dep) await addDeskFinalizer(this.d.writer, dep);
    // A desk being deleted without it (it had nothing to clean up then) is no place to start.
    const target = dep && deskGoesUnguarded(dep) ? undefined : deployment;
    if (!runsOn(s, target)) {
      await this.writeStatus(s, events, { deployment: target, engines: [], rejected: [], unreachable: [] });
      // A deployment created later wakes its strategies; the requeue is a safety net.
      return target ? undefined : { requeueAfterMs: 30_000 };
    }
    const observed = await this.syncEngines(s, target, events);
    await this.writeStatus(s, events, observed);
    if (observed.unreachable.length) throw new EngineUnreachableError(observed.unreachable.join('; '));
    // A rejected spec is polled like a running one: the engine answers the same until it changes.
    return { requeueAfterMs: STRATEGY_POLL_MS };
  }

  /** Pushes the strategy to every targeted ready engine; what each reported, or why not. */
  private async syncEngines(
    s: CachedStrategy,
    deployment: DeploymentFacts,
    events: EventBatch,
  ): Promise<ObservedStrategy> {
    const ns = s.metadata.namespace ?? '';
    const engines: StrategyEngineStatus[] = [];
    const unreachable: string[] = [];
    const rejected: string[] = [];
    for (const pair of this.targets(s, deployment.pairs)) {
      const pod = names(s.spec.deploymentRef.name).enginePod(pair);
      // A halt is in the engine's WAL: while the engine cannot say so, its last report holds.
      const last = s.status?.engines?.find((e) => e.pair === pair)?.halt;
      const held = last ? { halt: last } : {};
      if (!podReady(this.d.cache.get(RESOURCES.pod, ns, pod))) {
        engines.push({ pair, state: 'pending', lastError: `engine ${pod} is not ready`, ...held });
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
        engines.push({ pair, state: 'unreachable', lastError: msg, ...held });
      }
    }
    return { deployment, engines, rejected, unreachable };
  }

  private targets(s: VelozStrategy, pairs: number): number[] {
    const all = Array.from({ length: pairs }, (_, i) => i);
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
    const body = strategyBody(s);
    let cur = await this.d.engines.call<Strategy>(ns, pod, 'GET', path);
    if (cur.status === 200 && cur.body.version > version) {
      // The engine ran a newer incarnation of this name (the CR was recreated): the CR wins.
      await this.d.engines.call(ns, pod, 'DELETE', path);
      cur = { status: 404, body: cur.body };
    }
    let pushed: number | undefined;
    if (cur.status === 404 || cur.body.version !== version) {
      cur = await this.d.engines.call<Strategy>(ns, pod, 'PUT', path, body);
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
      ...(v.halt
        ? {
            halt: {
              guardrail: v.halt.guardrail,
              value: v.halt.value,
              limit: v.halt.limit,
              reason: v.halt.reason,
              time: new Date(v.halt.at).toISOString(),
            },
          }
        : {}),
      ...(pushed !== undefined ? { pushed } : {}),
    };
  }

  private async finalize(
    s: CachedStrategy,
    deployment: DeploymentFacts | undefined,
    dep: CachedDeployment | undefined,
    events: EventBatch,
  ): Promise<void> {
    if (!s.metadata.finalizers?.includes(STRATEGY_FINALIZER)) return;
    const ns = s.metadata.namespace ?? '';
    const name = s.metadata.name ?? '';
    const blocked: Array<{ pair: number; pod: string; problem: string }> = [];
    for (const pair of deployment ? this.targets(s, deployment.pairs) : []) {
      const pod = names(s.spec.deploymentRef.name).enginePod(pair);
      const p = this.d.cache.get(RESOURCES.pod, ns, pod);
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
          blocked.push({ pair, pod, problem: `engine ${pod}: DELETE answered ${res.status}` });
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        // Named by pod, whichever way the engine was called (the pod proxy names it, an IP does not).
        const problem = msg.startsWith(`engine ${ns}/${pod}`) ? msg : `engine ${pod}: ${msg}`;
        blocked.push({ pair, pod, problem });
      }
    }
    const abandon = annotated(s, ABANDON_ENGINES) || annotated(dep, ABANDON_ENGINES);
    if (blocked.length > 0 && !abandon) {
      const problems = blocked.map((b) => b.problem);
      const status = cleanupPendingStatus(s, problems, this.d.now().toISOString());
      // Once per blocked deletion, whatever Degraded said before (often EngineUnreachable already).
      if (conditionOf(this.written.before(s, s.status?.conditions), 'Degraded')?.reason !== 'CleanupPending')
        events.record(
          s,
          'Warning',
          'CleanupPending',
          `deletion waits: cannot stop the strategy on ${problems.join('; ')}. To delete it anyway, ` +
            `leaving it running there and its orders possibly open on the exchange, annotate it ` +
            `(or VelozDeployment ${s.spec.deploymentRef.name}) ${ABANDON_ENGINES}=true`,
        );
      await this.writeIfChanged(s, status);
      throw new EngineUnreachableError(problems.join('; '));
    }
    if (blocked.length > 0) this.recordAbandoned(s, dep, blocked, events);
    await this.d.writer.mergePatch(RESOURCES.velozStrategy, ns, name, {
      metadata: {
        finalizers: s.metadata.finalizers.filter((f) => f !== STRATEGY_FINALIZER),
        resourceVersion: s.metadata.resourceVersion,
      },
    });
    events.record(
      s,
      'Normal',
      'Stopped',
      blocked.length === 0
        ? 'stopped on every engine, its open orders cancelled'
        : `stopped and its open orders cancelled on every engine but ${blocked.map((b) => b.pod).join(', ')} (abandoned)`,
    );
  }

  /**
   * The deliberate way out: what may be left running on the engines that did not answer, with
   * their last report, as a Warning Event on the strategy and its deployment and a log line.
   */
  private recordAbandoned(
    s: CachedStrategy,
    dep: CachedDeployment | undefined,
    blocked: Array<{ pair: number; pod: string; problem: string }>,
    events: EventBatch,
  ): void {
    const name = s.metadata.name ?? '';
    const engines = blocked.map((b) => {
      const last = s.status?.engines?.find((e) => e.pair === b.pair);
      const report = last
        ? `last reported ${last.state ?? 'no state'}, position ${last.position ?? '?'}, ${last.ordersPlaced ?? 0} orders placed`
        : 'never reported';
      this.d.log.warn(
        {
          namespace: s.metadata.namespace,
          strategy: name,
          engine: b.pod,
          problem: b.problem,
          lastReport: last,
        },
        `${ABANDON_ENGINES}: strategy not stopped on its engine; it may still run there and its orders may remain open on the exchange`,
      );
      return `${b.pod} (${report}; ${b.problem})`;
    });
    const message =
      `${ABANDON_ENGINES}: VelozStrategy ${name} deleted without stopping it on ${engines.join('; ')}. ` +
      'It may still run there, and its open orders may remain open on the exchange: cancel them there';
    events.record(s, 'Warning', 'EnginesAbandoned', message);
    if (dep) events.record(dep, 'Warning', 'EnginesAbandoned', message);
  }

  private writeStatus(s: VelozStrategy, events: EventBatch, observed: ObservedStrategy): Promise<void> {
    return this.applyStatus(s, events, computeStrategyStatus(s, observed, this.d.now().toISOString()));
  }

  /** Records the condition transitions and writes the status, only when it changed. */
  private async applyStatus(
    s: VelozStrategy,
    events: EventBatch,
    status: VelozStrategyStatus,
  ): Promise<void> {
    recordTransitions(
      events,
      s,
      this.written.before(s, s.status?.conditions),
      status.conditions,
      ['Accepted', 'Running', 'Halted', 'Degraded'],
      ['EnginesPending'],
    );
    await this.writeIfChanged(s, status);
  }

  /** Writes the status, only when it changed. */
  private async writeIfChanged(s: VelozStrategy, status: VelozStrategyStatus): Promise<void> {
    if (!this.written.changed(s, status, s.status)) return;
    await this.d.writer.applyStatus(
      RESOURCES.velozStrategy,
      s.metadata?.namespace ?? '',
      s.metadata?.name ?? '',
      status,
    );
    this.written.wrote(s, status);
  }
}
