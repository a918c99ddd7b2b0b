// `veloz operator` put together: the two reconcilers with what each declares it watches, the
// manager that starts exactly those informers and routes their changes, the Prometheus Operator's
// kinds while their API is served, the work only the leader does, the metrics/health server, and
// a graceful shutdown.
import { createLogger } from '@veloz/common/logging';
import type { Logger } from 'pino';
import { AccountLeases, loadAccountKey } from './accounts.ts';
import { InformerCache } from './cache.ts';
import type { OperatorConfig } from './config.ts';
import { DirectEngineAccess, ProxyEngineAccess, type EngineAccess } from './engine-access.ts';
import { adminToken } from './engine-tokens.ts';
import { KubeClient } from './kube/client.ts';
import { RESOURCES, type ResourceRef } from './kube/resources.ts';
import { KubeLeaseStore } from './lease-store.ts';
import { certManagerApiServed, discoverAtStart, MonitoringApi } from './monitoring-discovery.ts';
import { CERT_MANAGER_KINDS, MONITORING_KINDS, MonitoringInformers } from './monitoring-informers.ts';
import { DeploymentReconciler } from './reconcilers/deployment.ts';
import { DEPLOYMENT_WATCHES } from './reconcilers/deployment-watches.ts';
import { STATUS_SETTLE_MS } from './reconcilers/status-settle.ts';
import { KubeEventRecorder } from './reconcilers/events.ts';
import { StrategyReconciler } from './reconcilers/strategy.ts';
import { STRATEGY_WATCHES } from './reconcilers/strategy-watches.ts';
import { realClock } from './runtime/clock.ts';
import { ControllerManager } from './runtime/controller-manager.ts';
import { LeaderElector } from './runtime/leader-election.ts';
import { createOperatorMetrics, type OperatorMetrics } from './runtime/metrics.ts';
import { planInformers } from './runtime/watches.ts';
import { WhileLeading } from './runtime/while-leading.ts';
import { buildOperatorServer } from './server.ts';
import { LeaderWalReports } from './wal-reports.ts';
import { nodeAccess } from './node-access.ts';
import { FlatTracker } from './reconcilers/flat-tracker.ts';

/** Every kind the operator watches (what its RBAC must let it list and watch). */
export const WATCHED: ResourceRef[] = planInformers([DEPLOYMENT_WATCHES, STRATEGY_WATCHES]).map(
  (p) => p.resource,
);

export interface RunningOperator {
  metrics: OperatorMetrics;
  port: number;
  /** Rejects when the operator cannot go on (a leadership change failed): stop it, exit non-zero. */
  failed: Promise<never>;
  stop(): Promise<void>;
}

export async function startOperator(
  cfg: OperatorConfig,
  log: Logger = createLogger(cfg.logLevel, 1, 'veloz-operator'),
  /** How engines are reached, instead of by pod IP or the API server's pod proxy (tests). */
  engineAccess?: EngineAccess,
  /** The reconcilers' clock (maintenance windows, backup staleness); a fake one in tests. */
  now: () => Date = () => new Date(),
): Promise<RunningOperator> {
  const client = KubeClient.load(cfg.kubeconfig);
  const metrics = createOperatorMetrics();
  client.observe((verb, kind, code, seconds) => {
    metrics.apiRequests.inc({ verb, kind, code: String(code) });
    metrics.apiLatency.observe({ verb }, seconds);
  });
  const monitoring = new MonitoringApi({
    client,
    log,
    intervalMs: cfg.apiDiscoveryIntervalSeconds * 1000,
    // A change is reported only after the first answer, by the timer started below, once the
    // informers it switches exist.
    onChange: (served) => monitoringInformers.onChange(served),
  });
  const monitoringServed = await discoverAtStart(monitoring, log);
  const certManager = new MonitoringApi({
    client,
    log,
    intervalMs: cfg.apiDiscoveryIntervalSeconds * 1000,
    onChange: (served) => certManagerInformers.onChange(served),
    probe: certManagerApiServed,
    api: 'cert-manager.io/v1',
  });
  const certManagerServed = await discoverAtStart(certManager, log);

  const cache = new InformerCache();
  const inCluster = !cfg.kubeconfig && !!process.env['KUBERNETES_SERVICE_HOST'];
  const token = adminToken(cache);
  const engines: EngineAccess =
    engineAccess ??
    (inCluster
      ? new DirectEngineAccess((ns, pod) => cache.get(RESOURCES.pod, ns, pod)?.status.podIP, token)
      : new ProxyEngineAccess(client, token));
  const events = new KubeEventRecorder(client, log);
  const wal = new LeaderWalReports({
    engines,
    log,
    intervalMs: cfg.walStatusIntervalSeconds * 1000,
    onChange: (ns, d) => manager.enqueue(RESOURCES.velozDeployment, `${ns}/${d}`),
  });
  // One desk per exchange account: Leases beside the operator's own, named by a keyed hash.
  const accounts = new AccountLeases({
    client,
    cache,
    namespace: cfg.leaseNamespace,
    key: await loadAccountKey(client, cfg.leaseNamespace),
    now,
  });
  const nodes = await nodeAccess(client, log);
  const deployments = new DeploymentReconciler({
    cache,
    writer: client,
    events,
    monitoring,
    certManager,
    log,
    defaultImage: cfg.image,
    runbookBaseUrl: cfg.runbookBaseUrl,
    ...(cfg.operatorPeer ? { operatorPeer: cfg.operatorPeer } : {}),
    ...(cfg.scraperPeer ? { scraperPeer: cfg.scraperPeer } : {}),
    now,
    wal,
    flat: new FlatTracker(engines),
    accounts,
    nodes,
    statusSettleMs: STATUS_SETTLE_MS,
  });
  const strategies = new StrategyReconciler({ cache, writer: client, engines, events, log, now });
  const manager = new ControllerManager(
    { client, cache, namespaces: cfg.namespaces, workers: cfg.workers, log, metrics },
    [
      { reconciler: deployments, watches: DEPLOYMENT_WATCHES },
      { reconciler: strategies, watches: STRATEGY_WATCHES },
    ],
  );
  const optional = [...MONITORING_KINDS, ...CERT_MANAGER_KINDS, RESOURCES.node];
  manager.startInformers(manager.kinds.filter((k) => !optional.includes(k)));
  // Before the first sync, so a new leader sees the nodes with everything else.
  if (nodes.readable) manager.startInformers([RESOURCES.node]);
  const monitoringInformers = new MonitoringInformers(manager, log);
  monitoringInformers.init(monitoringServed);
  monitoring.start();
  const certManagerInformers = new MonitoringInformers(manager, log, CERT_MANAGER_KINDS);
  certManagerInformers.init(certManagerServed);
  certManager.start();

  let fail: (err: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  // The caller listens once started; until then a failure must not count as unhandled.
  void failed.catch(() => undefined);
  const stopSignal = new AbortController();
  const leading = new WhileLeading({
    work: {
      start: () => {
        wal.start();
        manager.startControllers();
      },
      stop: async () => {
        await Promise.all([manager.stopControllers(), wal.stop()]);
      },
    },
    // Reconcile only from a complete picture of the world.
    synced: () => cache.waitForSync(realClock, stopSignal.signal),
    log,
    onFatal: (err) => fail(err),
  });
  const election = campaign(cfg, client, leading, metrics, log, stopSignal.signal).catch(fail);

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
      nodesReadable: nodes.readable,
      engineAccess: inCluster ? 'direct' : 'proxy',
    },
    'operator started',
  );

  return {
    metrics,
    port,
    failed,
    stop: async () => {
      stopSignal.abort();
      monitoring.stop();
      certManager.stop();
      try {
        await leading.stop();
      } finally {
        await election;
        await Promise.all([
          manager.closeInformers(),
          monitoringInformers.settled(),
          certManagerInformers.settled(),
        ]);
        await server.close();
        client.close();
      }
      log.info('operator stopped');
    },
  };
}

/** Leads at once, or (--leader-elect) while holding the Lease; resolves once the campaign ends. */
function campaign(
  cfg: OperatorConfig,
  client: KubeClient,
  leading: WhileLeading,
  metrics: OperatorMetrics,
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  if (!cfg.leaderElect) {
    metrics.leader.set(1);
    leading.lead();
    return Promise.resolve();
  }
  return new LeaderElector({
    store: new KubeLeaseStore(client, cfg.leaseNamespace, cfg.leaseName),
    identity: cfg.identity,
    clock: realClock,
    log,
    onStartedLeading: () => {
      metrics.leader.set(1);
      leading.lead();
    },
    onStoppedLeading: () => {
      metrics.leader.set(0);
      leading.follow();
    },
  }).run(signal);
}
