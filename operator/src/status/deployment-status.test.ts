import { names } from '@veloz/api/names';
import {
  deskResource as deployment,
  observedDesk as observed,
  observedSts as sts,
} from '@veloz/testing/observed-desk';
import { describe, expect, it } from 'vitest';
import type { ExchangeObservation } from '../wal-observer.ts';
import { computeDeploymentStatus } from './deployment-status.ts';

const NOW = '2026-11-21T10:00:00.000Z';
const n = names('desk');

const cond = (s: ReturnType<typeof computeDeploymentStatus>, type: string) =>
  s.conditions?.find((c) => c.type === type);

describe('computeDeploymentStatus', () => {
  it.each([
    ['all pairs ready', {}, observed(), 'Ready', 'True', 2],
    [
      'one engine not ready',
      {},
      observed({ readyPods: new Set([n.enginePod(0), n.gatewayPod(0), n.gatewayPod(1)]) }),
      'Progressing',
      'False',
      1,
    ],
    [
      'rollout of a new generation pending',
      {},
      observed({ engine: sts(2, { generation: 3 }) }),
      'Progressing',
      'False',
      2,
    ],
    [
      'statefulsets not created yet',
      {},
      observed({ engine: undefined, gateway: undefined, readyPods: new Set() }),
      'Pending',
      'False',
      0,
    ],
    [
      'hibernated',
      { pairs: 0 },
      observed({ engine: sts(0), gateway: sts(0), readyPods: new Set() }),
      'Hibernated',
      'True',
      0,
    ],
    ['apply failed', {}, observed({ applyError: 'admission webhook denied' }), 'Degraded', 'True', 2],
    [
      'live mode without credentials',
      { execution: { mode: 'binance_testnet_spot', credentialsSecretRef: { name: 'creds' } } },
      observed({
        credentials: { ready: false, reason: 'SecretNotFound', message: 'Secret creds not found' },
      }),
      'Degraded',
      'False',
      2,
    ],
  ])('%s', (_n, spec, obs, phase, ready, readyPairs) => {
    const s = computeDeploymentStatus(deployment(spec), obs, NOW);
    expect(s.phase).toBe(phase);
    expect(cond(s, 'Ready')?.status).toBe(ready);
    expect(s.readyPairs).toBe(readyPairs);
    expect(s.observedGeneration).toBe(3);
    for (const c of s.conditions ?? []) expect(c.observedGeneration).toBe(3);
  });

  it('says a StatefulSet is still rolling out when every pair answers but Ready is False', () => {
    const s = computeDeploymentStatus(
      deployment(),
      observed({ engine: sts(2, { updatedReplicas: 1 }) }),
      '2026-11-21T10:00:00.000Z',
    );
    expect(cond(s, 'Ready')).toMatchObject({
      status: 'False',
      message: '2/2 pairs ready; the engine StatefulSet is still rolling out',
    });
  });

  it('names what is missing in its conditions', () => {
    const d = deployment({
      execution: { mode: 'binance_testnet_spot', credentialsSecretRef: { name: 'creds' } },
      monitoring: { serviceMonitor: { enabled: true } },
    });
    const s = computeDeploymentStatus(
      d,
      observed({
        credentials: { ready: false, reason: 'KeyMissing', message: 'Secret creds has no key apiSecret' },
        monitoringServed: false,
        boundClaims: new Set([n.walClaim(0)]),
      }),
      NOW,
    );
    expect(cond(s, 'CredentialsReady')).toMatchObject({
      status: 'False',
      reason: 'KeyMissing',
      message: 'Secret creds has no key apiSecret',
    });
    expect(cond(s, 'MonitoringReady')).toMatchObject({ status: 'False', reason: 'MonitoringAPINotServed' });
    expect(cond(s, 'WALReady')).toMatchObject({
      status: 'False',
      message: `WAL volume claims not bound: ${n.walClaim(1)}`,
    });
  });

  it.each([
    [{ time: '2026-11-21T09:58:00.000Z', result: 'Succeeded' as const }, 'True', 'BackupSucceeded'],
    [{ time: '2026-11-21T09:40:00.000Z', result: 'Succeeded' as const }, 'False', 'BackupStale'],
    [
      { time: '2026-11-21T09:58:00.000Z', result: 'Failed' as const, message: 'engine unreachable' },
      'False',
      'BackupFailed',
    ],
    [undefined, 'Unknown', 'NoBackupYet'],
  ])('backup %j -> %s %s', (last, status, reason) => {
    const s = computeDeploymentStatus(deployment(), observed({ lastBackup: last }), NOW);
    expect(cond(s, 'BackupReady')).toMatchObject({ status, reason });
  });

  it('keeps lastTransitionTime while a condition keeps its status, so recomputing is not a change', () => {
    const d = deployment();
    const first = computeDeploymentStatus(d, observed(), NOW);
    const again = computeDeploymentStatus({ ...d, status: first }, observed(), '2026-11-21T10:01:00.000Z');
    expect(again).toEqual(first);
    const changed = computeDeploymentStatus(
      { ...d, status: first },
      observed({ readyPods: new Set() }),
      '2026-11-21T10:01:00.000Z',
    );
    expect(cond(changed, 'Ready')?.lastTransitionTime).toBe('2026-11-21T10:01:00.000Z');
  });

  it('reports paused', () => {
    const s = computeDeploymentStatus(deployment({ paused: true }), observed(), NOW);
    expect(cond(s, 'Paused')?.status).toBe('True');
    expect(cond(s, 'Progressing')).toMatchObject({ status: 'False', reason: 'Paused' });
  });

  it('reports what each engine said of its WAL in its pair', () => {
    const s = computeDeploymentStatus(
      deployment(),
      observed({ wal: new Map([[1, { walEntries: 1234, lastCheckpoint: '2026-11-21T09:59:00.000Z' }]]) }),
      NOW,
    );
    expect(s.pairs).toMatchObject([
      { index: 0, gatewayReady: true, engineReady: true },
      {
        index: 1,
        gatewayReady: true,
        engineReady: true,
        walEntries: 1234,
        lastCheckpoint: '2026-11-21T09:59:00.000Z',
      },
    ]);
    // Until the engine answers again (it restarts; another operator replica leads), they stay.
    const restarted = computeDeploymentStatus(
      { ...deployment(), status: s },
      observed({ readyPods: new Set([n.enginePod(0), n.gatewayPod(0), n.gatewayPod(1)]) }),
      NOW,
    );
    expect(restarted.pairs?.[1]).toMatchObject({
      index: 1,
      gatewayReady: true,
      engineReady: false,
      walEntries: 1234,
      lastCheckpoint: '2026-11-21T09:59:00.000Z',
    });
  });

  it('says per pair and for the desk whether the WAL agrees with the exchange', () => {
    const live = deployment({
      execution: { mode: 'binance_testnet_spot', credentialsSecretRef: { name: 'creds' } },
    });
    const pairCond = (st: ReturnType<typeof computeDeploymentStatus>, i: number) =>
      st.pairs?.[i]?.conditions?.find((c) => c.type === 'ExchangeInSync');
    const first = computeDeploymentStatus(live, observed(), NOW);
    expect(pairCond(first, 0)).toMatchObject({ status: 'Unknown', reason: 'NotReported' });
    expect(cond(first, 'ExchangeInSync')).toMatchObject({ status: 'Unknown', reason: 'NotReported' });

    const exchange = new Map<number, ExchangeObservation>([
      [0, { state: 'InSync', message: 'the WAL agrees with the exchange' }],
      [1, { state: 'OutOfSync', message: 'new orders halted: short of BTC' }],
    ]);
    const out = computeDeploymentStatus({ ...live, status: first }, observed({ exchange }), NOW);
    expect(pairCond(out, 0)).toMatchObject({ status: 'True', reason: 'InSync' });
    expect(pairCond(out, 1)).toMatchObject({ status: 'False', reason: 'OutOfSync' });
    expect(cond(out, 'ExchangeInSync')).toMatchObject({
      status: 'False',
      reason: 'OutOfSync',
      message: 'pair 1: new orders halted: short of BTC',
    });

    // Not asked since (a new leader): the last word holds, transition time included.
    const later = '2026-11-21T10:05:00.000Z';
    const kept = computeDeploymentStatus({ ...live, status: out }, observed(), later);
    expect(pairCond(kept, 1)).toEqual(pairCond(out, 1));
    expect(cond(kept, 'ExchangeInSync')?.lastTransitionTime).toBe(NOW);

    const failed = computeDeploymentStatus(
      { ...live, status: out },
      observed({
        exchange: new Map<number, ExchangeObservation>([
          [0, exchange.get(0)!],
          [1, { state: 'ReconciliationFailed', message: 'the exchange could not be asked: 503' }],
        ]),
      }),
      later,
    );
    expect(cond(failed, 'ExchangeInSync')).toMatchObject({
      status: 'Unknown',
      reason: 'ReconciliationFailed',
    });

    const sim = computeDeploymentStatus(deployment(), observed(), NOW);
    expect(cond(sim, 'ExchangeInSync')).toMatchObject({ status: 'True', reason: 'NotRequired' });
    expect(pairCond(sim, 0)).toMatchObject({ status: 'True', reason: 'NotRequired' });
  });
});

// NOW is Saturday 10:00 UTC. The thresholds are those of the VelozBackupStale alert (the same
// function); @veloz/api's schedule.test.ts covers every schedule form.
describe('BackupStale follows the schedule, whatever its form', () => {
  it.each([
    ['*/5 * * * *', undefined, '2026-11-21T09:46:00Z', 'BackupSucceeded'],
    ['*/5 * * * *', undefined, '2026-11-21T09:44:00Z', 'BackupStale'],
    ['@daily', undefined, '2026-11-19T10:30:00Z', 'BackupSucceeded'],
    ['@daily', undefined, '2026-11-19T09:30:00Z', 'BackupStale'],
    // Friday 02:00 to Monday 02:00 is the longest gap: stale after six days.
    ['0 2 * * MON-FRI', undefined, '2026-11-15T10:30:00Z', 'BackupSucceeded'],
    ['0 2 * * MON-FRI', undefined, '2026-11-15T09:30:00Z', 'BackupStale'],
    // Daylight saving can make a gap an hour longer: two more hours of grace.
    ['0 2 * * MON-FRI', 'Europe/Paris', '2026-11-15T09:30:00Z', 'BackupSucceeded'],
    ['0 2 * * MON-FRI', 'Europe/Paris', '2026-11-15T07:30:00Z', 'BackupStale'],
  ])('%s (%s), last success %s: %s', (schedule, timeZone, time, reason) => {
    const d = deployment({ backup: { schedule, ...(timeZone ? { timeZone } : {}) } });
    const s = computeDeploymentStatus(d, observed({ lastBackup: { time, result: 'Succeeded' } }), NOW);
    expect(cond(s, 'BackupReady')).toMatchObject({ reason });
  });

  it('is never stale for a schedule that makes no CronJob', () => {
    const d = deployment({ backup: { schedule: '0 0 30 2 *' } });
    const last = { time: '2020-01-01T00:00:00Z', result: 'Succeeded' as const };
    expect(
      cond(computeDeploymentStatus(d, observed({ lastBackup: last }), NOW), 'BackupReady'),
    ).toMatchObject({
      reason: 'BackupSucceeded',
    });
  });
});

describe('RolloutPending', () => {
  const waiting = {
    type: 'RolloutPending',
    status: 'True' as const,
    reason: 'WaitingForWindow',
    message: 'waits for the next maintenance window, at 2026-11-21T22:00:00.000Z',
  };
  // The held engine StatefulSet: its new revision stored, no pod on it (partition).
  const held = observed({ engine: sts(2, { updatedReplicas: 0 }) });

  it('counts engines held on the old revision as rolled out, and says what waits', () => {
    const s = computeDeploymentStatus(deployment(), { ...held, rollout: waiting }, NOW);
    expect(cond(s, 'RolloutPending')).toMatchObject({ status: 'True', reason: 'WaitingForWindow' });
    expect(cond(s, 'Ready')?.status).toBe('True');
    expect(s.phase).toBe('Ready');
  });

  it('without a hold, engines not on the new revision are still rolling out', () => {
    const s = computeDeploymentStatus(deployment(), held, NOW);
    expect(cond(s, 'RolloutPending')).toMatchObject({ status: 'False', reason: 'NoPendingChange' });
    expect(cond(s, 'Ready')?.status).toBe('False');
  });

  it('keeps the last decision when the reconciler made none (paused)', () => {
    const before = computeDeploymentStatus(deployment(), { ...held, rollout: waiting }, NOW);
    const s = computeDeploymentStatus({ ...deployment(), status: before }, held, NOW);
    expect(cond(s, 'RolloutPending')).toMatchObject({ status: 'True', reason: 'WaitingForWindow' });
  });

  it('says why a desk refused for its exchange account has no WAL claims, instead of claims pending', () => {
    const d = deployment({
      execution: { mode: 'binance_testnet_spot', credentialsSecretRef: { name: 'creds' } },
    });
    const s = computeDeploymentStatus(
      d,
      observed({
        boundClaims: new Set(),
        account: { state: 'Conflict', lease: 'ops/veloz-account-0', holder: 'a/desk' },
      }),
      NOW,
    );
    expect(cond(s, 'WALReady')).toMatchObject({ status: 'False', reason: 'AccountConflict' });
    expect(cond(s, 'WALReady')?.message).toContain('VelozDeployment a/desk holds the exchange account');
  });
});
