// The VelozDeployment status as a pure function of the resource and what was observed of its
// children. Ready is true only when every pair of the current generation is ready.
import type {
  Condition,
  LastBackup,
  PairStatus,
  VelozDeployment,
  VelozDeploymentStatus,
} from '@veloz/api/generated/types';
import { conditionOf, mergeConditions, type ConditionInput } from './conditions.ts';
import type { ExchangeObservation } from '../wal-observer.ts';
import { names } from '@veloz/api/names';
import { backupStaleAfterSeconds } from '@veloz/api/schedule';
import { backupVerifiedCondition, type RestoreTest } from './restore-test.ts';
import { pairLostCondition, pairNodeCondition, type NodesObservation } from './node-status.ts';

export interface ObservedStatefulSet {
  generation: number;
  observedGeneration: number;
  replicas: number;
  readyReplicas: number;
  updatedReplicas: number;
}

export interface ObservedDeployment {
  engine: ObservedStatefulSet | undefined;
  gateway: ObservedStatefulSet | undefined;
  /** Ready pods by name (names().enginePod(i), gatewayPod(i)). */
  readyPods: ReadonlySet<string>;
  /** WAL PVC names (names().walClaim(i)) that are Bound. */
  boundClaims: ReadonlySet<string>;
  credentials: { ready: boolean; reason: string; message: string };
  /** The gateways' TLS Secret, when spec.gateway.tls names one. */
  tls?: { ok: boolean; message: string };
  monitoringServed: boolean;
  /**
   * Per pair index, what its engine last reported of its WAL (GET /api/wal/status). A pair with
   * no answer keeps the figures of the current status.
   */
  wal: ReadonlyMap<number, Pick<PairStatus, 'walEntries' | 'lastCheckpoint'>>;
  /**
   * Per pair index, what its engine's last reconciliation with the exchange found (GET
   * /api/exchange/reconciliation). A pair with no answer keeps its current ExchangeInSync.
   */
  exchange?: ReadonlyMap<number, ExchangeObservation>;
  lastBackup: LastBackup | undefined;
  /** The last finished restore drill (spec.backup.verify); absent when none finished. */
  restoreTest?: RestoreTest | undefined;
  /** Set when applying the desired state failed. */
  applyError: string | undefined;
  /**
   * RolloutPending as the reconciler decided it this pass (spec.maintenance); absent when it did
   * not decide (paused): the last word holds.
   */
  rollout?: ConditionInput;
  /** What claiming the desk's exchange account found (accounts.ts); absent: not checked. */
  account?: AccountObservation;
  /** The engines' nodes (NodeReady, PairLost); absent: not observed, neither condition is written. */
  nodes?: NodesObservation;
}

/** The outcome of an account claim, as the status needs it. */
export type AccountObservation =
  | { state: 'NotRequired' }
  | { state: 'Unknown'; message: string }
  | { state: 'Held'; lease: string; shared?: { group: string; desks: string[] }; budget?: { pairs: number } }
  | { state: 'Conflict'; lease: string; holder: string };

const c = (type: string, ok: boolean | 'Unknown', reason: string, message: string): ConditionInput => ({
  type,
  status: ok === 'Unknown' ? 'Unknown' : ok ? 'True' : 'False',
  reason,
  message,
});

/** `held`: a rollout waits (RolloutPending), so the pods are meant to stay on the old revision. */
function rolledOut(s: ObservedStatefulSet | undefined, pairs: number, held = false): boolean {
  return (
    !!s &&
    s.observedGeneration >= s.generation &&
    s.replicas === pairs &&
    (held || s.updatedReplicas === pairs) &&
    s.readyReplicas === pairs
  );
}

/** RolloutPending: this pass's decision, else the last one written, else nothing waits. */
function rolloutCondition(d: VelozDeployment, o: ObservedDeployment): ConditionInput {
  if (o.rollout) return o.rollout;
  const prev = conditionOf(d.status?.conditions, 'RolloutPending');
  if (prev) return { type: prev.type, status: prev.status, reason: prev.reason, message: prev.message };
  return c('RolloutPending', false, 'NoPendingChange', 'the engines run the current spec');
}

export function backupCondition(
  d: VelozDeployment,
  last: LastBackup | undefined,
  nowMs: number,
): ConditionInput {
  const b = d.spec.backup;
  if (b.suspend) return c('BackupReady', true, 'Suspended', 'backups are suspended');
  if (!last?.time) return c('BackupReady', 'Unknown', 'NoBackupYet', 'no backup has finished yet');
  if (last.result === 'Failed')
    return c('BackupReady', false, 'BackupFailed', last.message ?? 'the last backup failed');
  // The same threshold as the VelozBackupStale alert (cdk8s/render/src/alerts.ts).
  const staleAfter = backupStaleAfterSeconds(b.schedule, b.timeZone);
  if (staleAfter !== undefined && nowMs - Date.parse(last.time) > staleAfter * 1000) {
    return c(
      'BackupReady',
      false,
      'BackupStale',
      `the last backup (${last.time}) is older than ${staleAfter / 60} minutes, twice the longest gap between two runs of the schedule`,
    );
  }
  return c('BackupReady', true, 'BackupSucceeded', `last backup at ${last.time}`);
}

const IN_SYNC = 'ExchangeInSync';

/** One pair's ExchangeInSync: what its engine's reconciliation last said. */
function pairExchangeCondition(
  live: boolean,
  seen: ExchangeObservation | undefined,
  prev: Condition | undefined,
): ConditionInput {
  if (!live) return c(IN_SYNC, true, 'NotRequired', 'sim_engine trades on no exchange');
  if (!seen) {
    // Not asked yet (a new operator leader, the engine restarting): the last word still holds.
    if (prev) return { type: IN_SYNC, status: prev.status, reason: prev.reason, message: prev.message };
    return c(IN_SYNC, 'Unknown', 'NotReported', 'the engine has not reported a reconciliation yet');
  }
  switch (seen.state) {
    case 'InSync':
      return c(IN_SYNC, true, 'InSync', seen.message);
    case 'OutOfSync':
      return c(IN_SYNC, false, 'OutOfSync', seen.message);
    case 'ReconciliationFailed':
      return c(IN_SYNC, 'Unknown', 'ReconciliationFailed', seen.message);
    case 'NotEnabled':
      return c(
        IN_SYNC,
        'Unknown',
        'NotReported',
        'the engine does not reconcile with an exchange (not restarted yet?)',
      );
  }
}

/** The desk's ExchangeInSync: False when any pair is, True when every pair is. */
function deskExchangeCondition(live: boolean, pairs: PairStatus[]): ConditionInput {
  if (!live) return c(IN_SYNC, true, 'NotRequired', 'sim_engine trades on no exchange');
  if (pairs.length === 0) return c(IN_SYNC, true, 'NotRequired', 'no pairs run');
  const of = (p: PairStatus) => conditionOf(p.conditions, IN_SYNC);
  const list = (ps: PairStatus[]) => ps.map((p) => `pair ${p.index}: ${of(p)?.message ?? ''}`).join('; ');
  const out = pairs.filter((p) => of(p)?.status === 'False');
  if (out.length > 0) return c(IN_SYNC, false, 'OutOfSync', list(out));
  if (pairs.every((p) => of(p)?.status === 'True'))
    return c(IN_SYNC, true, 'InSync', "every pair's WAL agrees with the exchange");
  const failed = pairs.filter((p) => of(p)?.reason === 'ReconciliationFailed');
  if (failed.length > 0) return c(IN_SYNC, 'Unknown', 'ReconciliationFailed', list(failed));
  return c(IN_SYNC, 'Unknown', 'NotReported', 'not every engine has reported a reconciliation yet');
}

/** Per pair, its pods' readiness and its engine's WAL figures; and how many pairs are ready. */
function pairStatuses(
  d: VelozDeployment,
  o: ObservedDeployment,
  now: string,
): { pairs: PairStatus[]; readyPairs: number } {
  const live = d.spec.execution.mode !== 'sim_engine';
  const gen = d.metadata?.generation ?? 0;
  const name = d.metadata?.name ?? '';
  const pairs: PairStatus[] = [];
  let readyPairs = 0;
  for (let i = 0; i < d.spec.pairs; i++) {
    const engineReady = o.readyPods.has(names(name).enginePod(i));
    const gatewayReady = o.readyPods.has(names(name).gatewayPod(i));
    if (engineReady && gatewayReady) readyPairs++;
    // The WAL is durable: until its engine answers again (restarting, or a new operator leader
    // that has not asked yet) the last figures reported still describe it.
    const prev = d.status?.pairs?.find((p) => p.index === i);
    const wal = o.wal.get(i) ?? {
      ...(prev?.walEntries !== undefined ? { walEntries: prev.walEntries } : {}),
      ...(prev?.lastCheckpoint !== undefined ? { lastCheckpoint: prev.lastCheckpoint } : {}),
    };
    const prevCond = conditionOf(prev?.conditions, IN_SYNC);
    const conditions = mergeConditions(
      prev?.conditions,
      [
        pairExchangeCondition(live, o.exchange?.get(i), prevCond),
        ...(o.nodes
          ? [
              pairNodeCondition(
                o.nodes,
                i,
                names(name).enginePod(i),
                conditionOf(prev?.conditions, 'NodeReady'),
              ),
            ]
          : []),
      ],
      gen,
      now,
    );
    pairs.push({ index: i, gatewayReady, engineReady, ...wal, conditions });
  }
  return { pairs, readyPairs };
}

const CONFLICT = 'AccountConflict';

/** AccountConflict: True while another desk holds this desk's exchange account. */
function accountCondition(live: boolean, o: ObservedDeployment): ConditionInput {
  const a = o.account ?? { state: 'NotRequired' };
  if (!live || a.state === 'NotRequired')
    return c(CONFLICT, false, 'NotRequired', 'sim_engine trades on no exchange account');
  switch (a.state) {
    case 'Unknown':
      return c(CONFLICT, 'Unknown', 'CredentialsNotReady', a.message);
    case 'Held':
      return a.shared
        ? c(
            CONFLICT,
            false,
            'AccountShared',
            `shares the exchange account (Lease ${a.lease}) in share group ${a.shared.group} with ${a.shared.desks.join(', ')}: ${a.budget?.pairs ?? 0} pairs split one risk budget`,
          )
        : c(CONFLICT, false, 'AccountHeld', `this desk holds the exchange account (Lease ${a.lease})`);
    case 'Conflict':
      return c(
        CONFLICT,
        true,
        'HeldByAnotherDesk',
        `the exchange account is held by VelozDeployment ${a.holder} (Lease ${a.lease}): this desk runs no engines or gateways until that desk goes, or both set the same spec.execution.accountShare`,
      );
  }
}

function credentialsCondition(live: boolean, o: ObservedDeployment): ConditionInput {
  return live
    ? c('CredentialsReady', o.credentials.ready, o.credentials.reason, o.credentials.message)
    : c('CredentialsReady', true, 'NotRequired', 'sim_engine needs no exchange credentials');
}

function walCondition(d: VelozDeployment, o: ObservedDeployment): ConditionInput {
  const name = d.metadata?.name ?? '';
  const pairs = d.spec.pairs;
  const unbound = Array.from({ length: pairs }, (_, i) => names(name).walClaim(i)).filter(
    (n) => !o.boundClaims.has(n),
  );
  if (pairs === 0) return c('WALReady', true, 'Hibernated', 'no pairs; WAL volumes are kept');
  if (unbound.length === 0) return c('WALReady', true, 'ClaimsBound', `${pairs} WAL volume claims bound`);
  // Scaled to zero on a conflict, the StatefulSet creates no claims: nothing is pending to bind.
  if (o.account?.state === 'Conflict')
    return c(
      'WALReady',
      false,
      'AccountConflict',
      `no WAL volume claims for ${unbound.join(', ')}: the engines do not start while VelozDeployment ${o.account.holder} holds the exchange account`,
    );
  return c('WALReady', false, 'ClaimsPending', `WAL volume claims not bound: ${unbound.join(', ')}`);
}

function monitoringCondition(d: VelozDeployment, o: ObservedDeployment): ConditionInput {
  const mon = d.spec.monitoring;
  const wantsMonitoring = mon.serviceMonitor.enabled || mon.prometheusRule.enabled;
  return !wantsMonitoring
    ? c('MonitoringReady', true, 'Disabled', 'monitoring objects are not requested')
    : o.monitoringServed
      ? c('MonitoringReady', true, 'Applied', 'ServiceMonitor/PrometheusRule applied')
      : c(
          'MonitoringReady',
          false,
          'MonitoringAPINotServed',
          'monitoring.coreos.com/v1 is not served by this cluster; install the Prometheus Operator CRDs',
        );
}

/** Paused (when it is) and Progressing: whether the current generation is rolled out. */
function progressConditions(d: VelozDeployment, ready: boolean, readyPairs: number): ConditionInput[] {
  const gen = d.metadata?.generation ?? 0;
  if (d.spec.paused)
    return [
      c('Paused', true, 'Paused', 'spec.paused is true: the operator changes nothing'),
      c('Progressing', false, 'Paused', 'paused'),
    ];
  return [
    ready
      ? c('Progressing', false, 'RolledOut', `generation ${gen} is rolled out`)
      : c(
          'Progressing',
          true,
          'RollingOut',
          `${readyPairs}/${d.spec.pairs} pairs ready for generation ${gen}`,
        ),
  ];
}

function readyCondition(
  d: VelozDeployment,
  o: ObservedDeployment,
  ready: boolean,
  readyPairs: number,
): ConditionInput {
  const pairs = d.spec.pairs;
  // Every pair can answer while a StatefulSet is still replacing pods (a deleted engine pod, a
  // new image): say so rather than "1/1 pairs ready" next to Ready=False.
  const held = rolloutCondition(d, o).status === 'True';
  const rollingOut = (['engine', 'gateway'] as const).filter(
    (k) => !rolledOut(o[k], pairs, k === 'engine' && held),
  );
  return c(
    'Ready',
    ready,
    ready ? (pairs === 0 ? 'Hibernated' : 'AllPairsReady') : 'PairsNotReady',
    !ready && readyPairs === pairs && rollingOut.length > 0
      ? `${readyPairs}/${pairs} pairs ready; the ${rollingOut.join(' and ')} StatefulSet${rollingOut.length > 1 ? 's are' : ' is'} still rolling out`
      : `${readyPairs}/${pairs} pairs ready`,
  );
}

/**
 * Why the deployment is Degraded, if it is: the apply failed, live credentials are missing, or
 * the gateways' TLS Secret would not serve.
 */
function degradation(live: boolean, o: ObservedDeployment): { reason: string; message: string } | undefined {
  if (o.applyError) return { reason: 'ApplyFailed', message: o.applyError };
  if (live && o.account?.state === 'Conflict')
    return {
      reason: 'AccountConflict',
      message: `the exchange account is held by VelozDeployment ${o.account.holder}`,
    };
  if (live && !o.credentials.ready) return { reason: 'CredentialsNotReady', message: o.credentials.message };
  if (o.tls && !o.tls.ok) return { reason: 'TLSSecretInvalid', message: o.tls.message };
  return undefined;
}

function phaseOf(
  o: ObservedDeployment,
  pairs: number,
  ready: boolean,
  degraded: boolean,
): VelozDeploymentStatus['phase'] {
  if (degraded) return 'Degraded';
  if (pairs === 0 && ready) return 'Hibernated';
  if (ready) return 'Ready';
  return o.engine || o.gateway ? 'Progressing' : 'Pending';
}

export function computeDeploymentStatus(
  d: VelozDeployment,
  o: ObservedDeployment,
  now: string,
): VelozDeploymentStatus {
  const gen = d.metadata?.generation ?? 0;
  const pairs = d.spec.pairs;
  const live = d.spec.execution.mode !== 'sim_engine';
  const { pairs: pairStatus, readyPairs } = pairStatuses(d, o, now);
  const rollout = rolloutCondition(d, o);
  const ready =
    rolledOut(o.engine, pairs, rollout.status === 'True') &&
    rolledOut(o.gateway, pairs) &&
    readyPairs === pairs &&
    (!live || o.credentials.ready) &&
    (o.tls?.ok ?? true);
  const degraded = degradation(live, o);
  const conds: ConditionInput[] = [
    credentialsCondition(live, o),
    walCondition(d, o),
    monitoringCondition(d, o),
    backupCondition(d, o.lastBackup, Date.parse(now)),
    ...optional(
      backupVerifiedCondition(
        d,
        o.restoreTest,
        new Map(pairStatus.map((p) => [p.index, p.walEntries])),
        Date.parse(now),
      ),
    ),
    deskExchangeCondition(live, pairStatus),
    accountCondition(live, o),
    ...(o.nodes ? [pairLostCondition(o.nodes, pairStatus)] : []),
    ...progressConditions(d, ready, readyPairs),
    rollout,
    readyCondition(d, o, ready, readyPairs),
    degraded
      ? c('Degraded', true, degraded.reason, degraded.message)
      : c('Degraded', false, 'AsExpected', ''),
  ];
  const conditions: Condition[] = mergeConditions(d.status?.conditions, conds, gen, now);
  return {
    observedGeneration: gen,
    phase: phaseOf(o, pairs, ready, !!degraded),
    conditions,
    readyPairs,
    pairs: pairStatus,
    gatewayService: names(d.metadata?.name ?? '').service,
    ...(o.lastBackup ? { lastBackup: o.lastBackup } : {}),
    ...(o.restoreTest ? { lastRestoreTest: o.restoreTest.status } : {}),
  };
}

const optional = <T>(v: T | undefined): T[] => (v === undefined ? [] : [v]);
