// Wires the operator together: informers per watched namespace feeding two controllers,
// leader election gating them, the metrics/health server, and a graceful shutdown.
import type { VelozDeployment, VelozStrategy } from '@veloz/api/generated/types';
import { createLogger } from '@veloz/common/logging';
import type { Logger } from 'pino';
import { InformerCache } from './cache.ts';
import { cacheTransform } from './cache-transforms.ts';
import type { OperatorConfig } from './config.ts';
import { DirectEngineAccess, ProxyEngineAccess, type EngineAccess } from './engine-access.ts';
import { KubeClient } from './kube/client.ts';
import { RESOURCES, objectKey, type KubernetesObject, type ResourceRef } from './kube/resources.ts';
import { KubeLeaseStore } from './lease-store.ts';
import { DeploymentReconciler, MANAGED_BY, type WalReports } from './reconcilers/deployment.ts';
import { KubeEventRecorder } from './reconcilers/events.ts';
import { StrategyReconciler } from './reconcilers/strategy.ts';
import { Controller } from './runtime/controller.ts';
import { backoffMs, realClock } from './runtime/clock.ts';
import { Informer } from './runtime/informer.ts';
import { priorityOf } from './runtime/priority.ts';
import { LeaderElector } from './runtime/leader-election.ts';
import { createOperatorMetrics, type OperatorMetrics } from './runtime/metrics.ts';
import { MonitoringApi } from './monitoring-discovery.ts';
import { buildOperatorServer } from './server.ts';
import { WalObserver } from './wal-observer.ts';

const MANAGED = `app.kubernetes.io/managed-by=${MANAGED_BY}`;
/** Owned kinds whose changes wake their VelozDeployment, watched by our label only. */
export const OWNED_WATCHED: ResourceRef[] = [
  RESOURCES.configMap,
  RESOURCES.service,
  RESOURCES.serviceAccount,
  RESOURCES.statefulSet,
  RESOURCES.pdb,
  RESOURCES.networkPolicy,
  RESOURCES.cronJob,
  RESOURCES.job,
  RESOURCES.pod,
  RESOURCES.pvc,
];
/** Watched only where monitoring.coreos.com/v1 is served. */
export const MONITORING_KINDS: ResourceRef[] = [RESOURCES.serviceMonitor, RESOURCES.prometheusRule];

export interface RunningOperator {
  metrics: OperatorMetrics;
  port: number;
  stop(): Promise<void>;
}

export async function startOperator(
  cfg: OperatorConfig,
  log: Logger = createLogger(cfg.logLevel, 1, 'veloz-operator'),
): Promise<RunningOperator> {
  const client = KubeClient.load(cfg.kubeconfig);
  const metrics = createOperatorMetrics();
  client.observe((verb, kind, code, seconds) => {
    metrics.apiRequests.inc({ verb, kind, code: String(code) });
    metrics.apiLatency.observe({ verb }, seconds);
  });
  // Set once the informers exist; until then a change of the monitoring API has nothing to do.
  let onMonitoringChange: (served: boolean) => void = () => undefined;
  const monitoring = new MonitoringApi({
    client,
    log,
    intervalMs: cfg.apiDiscoveryIntervalSeconds * 1000,
    onChange: (served) => onMonitoringChange(served),
  });
  // The API server may be briefly unreachable (restarting, not yet listening): keep trying at
  // start instead of exiting; the client already retries refused connections a few times.
  let monitoringServed: boolean | undefined;
  for (let attempt = 0; monitoringServed === undefined; attempt++) {
    try {
      monitoringServed = await monitoring.check();
    } catch (err) {
      if (attempt >= 8) throw err;
      const delayMs = backoffMs(attempt, 500, 10_000, 0.2);
      log.warn({ err, delayMs }, 'API discovery failed at start; retrying');
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
  const cache = new InformerCache();
  const inCluster = !cfg.kubeconfig && !!process.env['KUBERNETES_SERVICE_HOST'];
  const engines: EngineAccess = inCluster
    ? new DirectEngineAccess(
        (ns, pod) => cache.get<{ status?: { podIP?: string } }>(RESOURCES.pod, ns, pod)?.status?.podIP,
      )
    : new ProxyEngineAccess(client);
  const events = new KubeEventRecorder(client, log);
  let deployCtl: Controller | undefined;
  let strategyCtl: Controller | undefined;
  // Only the leader asks the engines; it runs alongside the controllers.
  let walObserver: WalObserver | undefined;
  const walReports: WalReports = {
    track: (ns, d, pods) => walObserver?.track(ns, d, pods),
    get: (ns, d) => walObserver?.get(ns, d) ?? new Map(),
  };
  const deployments = new DeploymentReconciler({
    cache,
    writer: client,
    events,
    monitoring,
    log,
    defaultImage: cfg.image,
    runbookBaseUrl: cfg.runbookBaseUrl,
    now: () => new Date(),
    wal: walReports,
  });
  const strategies = new StrategyReconciler({
    cache,
    writer: client,
    engines,
    events,
    log,
    now: () => new Date(),
  });

  const enqueueDeployment = (ns: string, name: string) => deployCtl?.queue.add(`${ns}/${name}`);
  const enqueueStrategiesOf = (ns: string, deployment: string) => {
    for (const s of cache.list<VelozStrategy>(
      RESOURCES.velozStrategy,
      ns,
      (s) => s.spec.deploymentRef.name === deployment,
    )) {
      strategyCtl?.queue.add(`${ns}/${s.metadata?.name}`);
    }
  };
  // Which deployments refer to which Secret (`ns/name`), kept up to date from deployment events,
  // so a Secret event finds its deployments without scanning them all.
  const secretUsers = new Map<string, Set<string>>();
  const secretsOf = new Map<string, string[]>();
  const indexSecrets = (d: KubernetesObject) => {
    const key = objectKey(d);
    for (const s of secretsOf.get(key) ?? []) secretUsers.get(s)?.delete(key);
    const spec = (d as { spec?: VelozDeployment['spec'] }).spec;
    const ns = d.metadata?.namespace ?? '';
    const names = [
      spec?.execution?.credentialsSecretRef?.name,
      spec?.gateway?.apiKeySecretRef?.name,
      spec?.wal?.postgres?.secretRef?.name,
    ].filter((n): n is string => !!n);
    const refs = cache.get(RESOURCES.velozDeployment, ns, d.metadata?.name ?? '')
      ? names.map((n) => `${ns}/${n}`)
      : [];
    secretsOf.set(key, refs);
    for (const r of refs) {
      let set = secretUsers.get(r);
      if (!set) secretUsers.set(r, (set = new Set()));
      set.add(key);
    }
  };
  const handlers = new Map<ResourceRef, (o: KubernetesObject) => void>([
    [
      RESOURCES.velozDeployment,
      (o) => {
        indexSecrets(o);
        deployCtl?.queue.add(objectKey(o), priorityOf(o));
        enqueueStrategiesOf(o.metadata?.namespace ?? '', o.metadata?.name ?? '');
      },
    ],
    [RESOURCES.velozStrategy, (o) => strategyCtl?.queue.add(objectKey(o), priorityOf(o))],
    [
      RESOURCES.secret,
      (o) => {
        // A Secret wakes its owner (the generated API key) and every deployment referring to it.
        const ns = o.metadata?.namespace ?? '';
        const instance = o.metadata?.labels?.['app.kubernetes.io/instance'];
        if (instance && o.metadata?.labels?.['app.kubernetes.io/managed-by'] === MANAGED_BY)
          enqueueDeployment(ns, instance);
        for (const key of secretUsers.get(objectKey(o)) ?? []) deployCtl?.queue.add(key);
      },
    ],
  ]);
  const onOwned = (o: KubernetesObject) => {
    const ns = o.metadata?.namespace ?? '';
    const instance = o.metadata?.labels?.['app.kubernetes.io/instance'];
    if (!instance) return;
    enqueueDeployment(ns, instance);
    if (o.kind === 'Pod' && o.metadata?.labels?.['app.kubernetes.io/component'] === 'engine')
      enqueueStrategiesOf(ns, instance);
  };
  /** Starts informers of `kinds` in every watched namespace, readable from the cache at once. */
  const watch = (kinds: Array<[ResourceRef, string | undefined]>): Informer[] => {
    const started: Informer[] = [];
    for (const ns of cfg.namespaces ?? [undefined]) {
      for (const [r, selector] of kinds) {
        const inf = new Informer({
          client,
          resource: r,
          namespace: ns,
          labelSelector: selector,
          onChange: handlers.get(r) ?? onOwned,
          log,
          onRestart: (reason) => metrics.informerRestarts.inc({ resource: r.plural, reason }),
          transform: cacheTransform(r),
        });
        cache.add(r, inf);
        started.push(inf);
      }
    }
    for (const inf of started) inf.start();
    return started;
  };
  const monitoringKinds = MONITORING_KINDS.map((r): [ResourceRef, string] => [r, MANAGED]);
  const informers = watch([
    [RESOURCES.velozDeployment, undefined],
    [RESOURCES.velozStrategy, undefined],
    [RESOURCES.secret, undefined],
    ...OWNED_WATCHED.map((r): [ResourceRef, string] => [r, MANAGED]),
  ]);
  let monitoringInformers = monitoringServed ? watch(monitoringKinds) : [];
  // The Prometheus Operator installed (or removed) while we run: watch its kinds (or stop), and
  // let every deployment render with (or without) its ServiceMonitor and PrometheusRule.
  const closeMonitoringInformers = async () => {
    for (const r of MONITORING_KINDS) cache.remove(r);
    const closing = monitoringInformers;
    monitoringInformers = [];
    await Promise.all(closing.map((i) => i.close()));
  };
  onMonitoringChange = (served) => {
    if (served && monitoringInformers.length === 0) monitoringInformers = watch(monitoringKinds);
    if (!served)
      void closeMonitoringInformers().catch((err: unknown) =>
        log.warn({ err }, 'closing the monitoring informers failed'),
      );
    for (const d of cache.all(RESOURCES.velozDeployment)) deployCtl?.queue.add(objectKey(d));
  };
  monitoring.start();

  const startControllers = () => {
    deployCtl = new Controller(deployments, { workers: cfg.workers, log, metrics });
    strategyCtl = new Controller(strategies, { workers: cfg.workers, log, metrics });
    if (cfg.walStatusIntervalSeconds > 0) {
      walObserver = new WalObserver({
        engines,
        log,
        intervalMs: cfg.walStatusIntervalSeconds * 1000,
        onChange: enqueueDeployment,
      });
      walObserver.start();
    }
    deployCtl.start();
    strategyCtl.start();
    for (const o of cache.all(RESOURCES.velozDeployment)) deployCtl.queue.add(objectKey(o), priorityOf(o));
    for (const o of cache.all(RESOURCES.velozStrategy)) strategyCtl.queue.add(objectKey(o), priorityOf(o));
  };
  const stopControllers = async () => {
    const d = deployCtl;
    const s = strategyCtl;
    const w = walObserver;
    deployCtl = undefined;
    strategyCtl = undefined;
    walObserver = undefined;
    await Promise.all([d?.stop(), s?.stop(), w?.stop()]);
  };

  // Reconcile only from a complete picture of the world.
  const synced = (async () => {
    while (!cache.synced) await new Promise((r) => setTimeout(r, 50));
  })();
  const stopSignal = new AbortController();
  let election: Promise<void> | undefined;
  if (cfg.leaderElect) {
    const elector = new LeaderElector({
      store: new KubeLeaseStore(client, cfg.leaseNamespace, cfg.leaseName),
      identity: cfg.identity,
      clock: realClock,
      log,
      onStartedLeading: () => {
        metrics.leader.set(1);
        void synced.then(() => {
          if (elector.isLeader && !stopSignal.signal.aborted) startControllers();
        });
      },
      onStoppedLeading: () => {
        metrics.leader.set(0);
        void stopControllers();
      },
    });
    election = elector.run(stopSignal.signal);
  } else {
    metrics.leader.set(1);
    void synced.then(() => {
      if (!stopSignal.signal.aborted) startControllers();
    });
  }

  const server = buildOperatorServer({
    registry: metrics.registry,
    logger: log,
    readiness: () => (cache.synced ? [] : cache.unsynced().map((n) => `informer ${n} not synced`)),
  });
  await server.listen({ port: cfg.metricsPort, host: cfg.metricsHost });
  const addr = server.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : cfg.metricsPort;
  log.info(
    {
      namespaces: cfg.namespaces ?? 'all',
      leaderElect: cfg.leaderElect,
      identity: cfg.identity,
      port,
      monitoringServed,
      engineAccess: inCluster ? 'direct' : 'proxy',
    },
    'operator started',
  );

  return {
    metrics,
    port,
    stop: async () => {
      stopSignal.abort();
      monitoring.stop();
      await stopControllers();
      await election;
      await Promise.all([...informers.map((i) => i.close()), closeMonitoringInformers()]);
      await server.close();
      client.close();
      log.info('operator stopped');
    },
  };
}
