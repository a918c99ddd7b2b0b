// docs/conditions.md against the code: every (type, status, reason) the operator can write is
// documented, and the document lists nothing the code cannot write. Both statuses are pure
// functions, so their reasons are collected by running them over scenarios that reach every
// branch; the credentials check builds its outcomes from literals, read here from its source, and
// so does the strategy status function, whose literals every scenario set must reach.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StrategyEngineStatus, VelozDeployment, VelozStrategy } from '@veloz/api/generated/types';
import { VELOZ_DEPLOYMENT } from '@veloz/api/crd/crds';
import { applyDefaults } from '@veloz/api/crd/defaults';
import { names } from '@veloz/api/names';
import { describe, expect, it } from 'vitest';
import { deletingStatus } from './deletion-status.ts';
import { summarizeDrill } from './restore-test.ts';
import {
  computeDeploymentStatus,
  type AccountObservation,
  type ObservedDeployment,
} from './deployment-status.ts';
import type { ExchangeObservation } from '../wal-observer.ts';
import { decideRollout, type RolloutInput } from '../reconcilers/engine-rollout.ts';
import { cleanupPendingStatus, computeStrategyStatus, type ObservedStrategy } from './strategy-status.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const source = (p: string) => readFileSync(join(ROOT, p), 'utf8').replace(/\s+/g, ' ');

/** `Type/Status/Reason` rows of one section of docs/conditions.md. */
function documented(section: string): Set<string> {
  const doc = readFileSync(join(ROOT, 'docs', 'conditions.md'), 'utf8');
  const body = doc.split(/^## /m).find((s) => s.startsWith(section))!;
  return new Set(
    [...body.matchAll(/^\| `(\w+)` \| `(True|False|Unknown)` \| `(\w+)` \|/gm)].map(
      (m) => `${m[1]}/${m[2]}/${m[3]}`,
    ),
  );
}

const NOW = '2026-11-21T10:00:00.000Z';
const sts = (n: number) => ({
  generation: 1,
  observedGeneration: 1,
  replicas: n,
  readyReplicas: n,
  updatedReplicas: n,
});

function deployment(spec: Record<string, unknown>): VelozDeployment {
  return applyDefaults(VELOZ_DEPLOYMENT.schema, {
    apiVersion: 'veloz.io/v1alpha1',
    kind: 'VelozDeployment',
    metadata: { name: 'd', namespace: 'ns', generation: 1 },
    spec: { pairs: 1, ...spec },
  }) as VelozDeployment;
}

function observed(over: Partial<ObservedDeployment> = {}): ObservedDeployment {
  return {
    engine: sts(1),
    gateway: sts(1),
    readyPods: new Set([names('d').enginePod(0), names('d').gatewayPod(0)]),
    boundClaims: new Set([names('d').walClaim(0)]),
    credentials: { ready: true, reason: 'NotRequired', message: '' },
    monitoringServed: true,
    wal: new Map(),
    lastBackup: { time: '2026-11-21T09:58:00.000Z', result: 'Succeeded' },
    applyError: undefined,
    ...over,
  };
}

/** The credentials check's outcomes, from its source: `{ ready: B, reason: 'R', ... }`. */
function credentialOutcomes(): Array<{ ready: boolean; reason: string }> {
  const src = source('operator/src/reconcilers/deployment.ts');
  return [...src.matchAll(/ready: (true|false), reason: '(\w+)'/g)].map((m) => ({
    ready: m[1] === 'true',
    reason: m[2]!,
  }));
}

describe('docs/conditions.md', () => {
  it('lists exactly the VelozDeployment conditions the status function writes', () => {
    const live = { execution: { mode: 'binance_spot', credentialsSecretRef: { name: 's' } } };
    const scenarios: Array<[Record<string, unknown>, Partial<ObservedDeployment>]> = [
      [{}, {}],
      [{ pairs: 0 }, { engine: sts(0), gateway: sts(0), readyPods: new Set(), boundClaims: new Set() }],
      [{}, { readyPods: new Set(), boundClaims: new Set() }],
      [{ monitoring: { serviceMonitor: { enabled: false }, prometheusRule: { enabled: false } } }, {}],
      [{}, { monitoringServed: false }],
      [{ backup: { suspend: true } }, {}],
      [{}, { lastBackup: undefined }],
      [{}, { lastBackup: { time: '2026-11-21T09:58:00.000Z', result: 'Failed' } }],
      [{}, { lastBackup: { time: '2026-11-01T00:00:00.000Z', result: 'Succeeded' } }],
      [{ paused: true }, {}],
      [{}, { applyError: 'the API server said no' }],
      [{ gateway: { tls: { secretName: 't' } } }, { tls: { ok: false, message: 'no key tls.crt' } }],
      [{ gateway: { tls: { secretName: 't' } } }, { tls: { ok: true, message: '' } }],
      ...credentialOutcomes().map((c): [Record<string, unknown>, Partial<ObservedDeployment>] => [
        live,
        { credentials: { ...c, message: '' } },
      ]),
    ];
    // Every outcome of claiming the desk's exchange account (accounts.ts).
    const accounts: AccountObservation[] = [
      { state: 'NotRequired' },
      { state: 'Unknown', message: 'm' },
      { state: 'Held', lease: 'ops/veloz-account-0' },
      { state: 'Held', lease: 'ops/veloz-account-0', shared: { group: 'g', desks: ['a/d', 'b/d'] } },
      { state: 'Conflict', lease: 'ops/veloz-account-0', holder: 'a/d' },
    ];
    for (const account of accounts) scenarios.push([live, { account }]);
    // A refused desk that never ran: its engines created no WAL claims.
    scenarios.push([live, { account: accounts[4]!, boundClaims: new Set() }]);
    // Every answer an engine's reconciliation can give, on every pair and on one of two.
    const exchange = (state: ExchangeObservation['state']) => new Map([[0, { state, message: 'm' }]]);
    for (const state of ['InSync', 'OutOfSync', 'ReconciliationFailed', 'NotEnabled'] as const) {
      scenarios.push([{ ...live, pairs: 1 }, { exchange: exchange(state) }]);
      scenarios.push([{ ...live, pairs: 2 }, { exchange: exchange(state) }]);
    }
    // Every placement of an engine (node-status.ts): on a Ready node, one not Ready, one without a
    // Ready condition, a deleted one; no engine pod; and Nodes not readable.
    const at = (readiness: { status: string | undefined } | undefined): Partial<ObservedDeployment> => ({
      nodes: {
        readable: true,
        engines: new Map([[0, { pod: names('d').enginePod(0), node: 'n', readiness }]]),
      },
    });
    scenarios.push(
      [{}, at({ status: 'True' })],
      [{}, at({ status: 'Unknown' })],
      [{}, at({ status: undefined })],
      [{}, at(undefined)],
      [{}, { nodes: { readable: true, engines: new Map<number, never>() } }],
      [{}, { nodes: { readable: false } }],
    );
    // Every outcome of a restore drill (restore-test.ts): each reason `veloz restore --drill`
    // reports (engine/backup/src/drill.ts DrillReason), a report without one, none at all, a
    // stale drill, an engine behind its backup, suspended drills, no drill yet.
    const verify = { backup: { verify: { schedule: '0 3 * * *' } } };
    const report = (result: string, reason?: string) =>
      JSON.stringify({
        pair: 0,
        result,
        ...(reason ? { reason } : {}),
        backup: 'b',
        sequence: 10,
        checks: ['x'],
      });
    const drill = (message: string | undefined, time = '2026-11-21T09:00:00.000Z') => ({
      restoreTest: summarizeDrill(1, { time, jobFailed: false, messages: new Map([['drill-0', message]]) }),
    });
    const reasonType = /export type DrillReason =([^;]*);/.exec(source('engine/backup/src/drill.ts'))![1]!;
    const drillReasons = [...reasonType.matchAll(/'(\w+)'/g)].map((m) => m[1]!);
    expect(drillReasons).toContain('DigestMismatch');
    for (const reason of drillReasons) scenarios.push([verify, drill(report('Failed', reason))]);
    scenarios.push(
      [verify, drill(report('Failed'))],
      [verify, drill(undefined)],
      [verify, drill(report('Succeeded'))],
      [verify, drill(report('Succeeded'), '2026-11-01T00:00:00.000Z')],
      [verify, { ...drill(report('Succeeded')), wal: new Map([[0, { walEntries: 3 }]]) }],
      [verify, {}],
      [{ backup: { verify: { schedule: '0 3 * * *', suspend: true } } }, {}],
    );
    // Every decision about a change that restarts the engines (engine-rollout.ts).
    const closed = { schedule: '0 22 * * *', duration: '1h', timeZone: 'UTC' };
    const rollouts: Array<Partial<RolloutInput>> = [
      { pending: false },
      { pending: true },
      { pending: true, maintenance: { policy: 'InWindow', windows: [closed], flatSeconds: 60 } },
      {
        pending: true,
        maintenance: { policy: 'InWindow', windows: [{ ...closed, timeZone: 'Mars/Base' }], flatSeconds: 60 },
      },
      { pending: true, maintenance: { policy: 'WhenFlat', flatSeconds: 60 } },
    ];
    for (const r of rollouts) {
      const input = { maintenance: undefined, pending: false, forced: false, now: new Date(NOW), ...r };
      scenarios.push([{}, { rollout: decideRollout(input).condition }]);
    }
    const rolloutSrc = source('operator/src/reconcilers/engine-rollout.ts');
    const rolloutLiterals = [...rolloutSrc.matchAll(/cond\( ?(true|false), '(\w+)'/g)].map((m) => m[2]);
    expect(rolloutLiterals.length).toBe([...rolloutSrc.matchAll(/cond\(/g)].length);
    const written = new Set<string>();
    for (const [spec, o] of scenarios) {
      const st = computeDeploymentStatus(deployment(spec), observed(o), NOW);
      for (const c of [...(st.conditions ?? []), ...(st.pairs ?? []).flatMap((p) => p.conditions ?? [])])
        written.add(`${c.type}/${c.status}/${c.reason}`);
    }
    // Being deleted: its strategies stopping, one of them waiting on an engine.
    for (const blocked of [undefined, 'cannot stop the strategy yet: engine d-engine-0: timed out']) {
      for (const c of deletingStatus(deployment({}), [{ name: 'g', blocked }], NOW).conditions ?? [])
        written.add(`${c.type}/${c.status}/${c.reason}`);
    }
    expect(credentialOutcomes().length).toBeGreaterThanOrEqual(5);
    // Every literal RolloutPending reason of engine-rollout.ts is reached by a scenario above.
    expect(
      new Set([...written].filter((w) => w.startsWith('RolloutPending/')).map((w) => w.split('/')[2])),
    ).toEqual(new Set(rolloutLiterals));
    expect([...written].sort()).toEqual([...documented('VelozDeployment')].sort());
  });

  it('lists exactly the VelozStrategy conditions the status function writes', () => {
    const strategy = (spec: Partial<VelozStrategy['spec']> = {}): VelozStrategy => ({
      apiVersion: 'veloz.io/v1alpha1',
      kind: 'VelozStrategy',
      metadata: { name: 'g', namespace: 'ns', generation: 1 },
      spec: {
        deploymentRef: { name: 'd' },
        type: 'grid',
        symbol: 'BTCUSDT',
        params: {},
        enabled: true,
        ...spec,
      },
    });
    const engine = (state: string): StrategyEngineStatus => ({ pair: 0, state });
    const deployment = { name: 'd', pairs: 1, symbols: ['BTCUSDT'] };
    const seen = (o: Partial<ObservedStrategy>): ObservedStrategy => ({
      deployment,
      engines: [engine('running')],
      rejected: [],
      unreachable: [],
      ...o,
    });
    const statuses = [
      computeStrategyStatus(strategy(), seen({ deployment: undefined }), NOW),
      computeStrategyStatus(strategy({ symbol: 'ETHUSDT' }), seen({}), NOW),
      computeStrategyStatus(strategy(), seen({}), NOW),
      computeStrategyStatus(strategy({ enabled: false }), seen({}), NOW),
      computeStrategyStatus(strategy({ pairs: [3] }), seen({ engines: [] }), NOW),
      computeStrategyStatus(strategy(), seen({ engines: [engine('rejected')], rejected: ['no'] }), NOW),
      computeStrategyStatus(
        strategy(),
        seen({ engines: [engine('unreachable')], unreachable: ['down'] }),
        NOW,
      ),
      computeStrategyStatus(
        strategy(),
        seen({
          engines: [
            {
              ...engine('halted'),
              halt: { guardrail: 'maxLoss', value: '-3', limit: '2', reason: 'loss', time: NOW },
            },
          ],
        }),
        NOW,
      ),
      cleanupPendingStatus(strategy(), ['engine d-engine-0: DELETE answered 500'], NOW),
    ];
    const written = new Set(
      statuses.flatMap((st) => (st.conditions ?? []).map((c) => `${c.type}/${c.status}/${c.reason}`)),
    );
    // Every literal condition in the source is reached by a scenario above.
    const src = source('operator/src/status/strategy-status.ts');
    const literals = [...src.matchAll(/cond\( ?'(\w+)', (true|false), '(\w+)'/g)].map(
      (m) => `${m[1]}/${m[2] === 'true' ? 'True' : 'False'}/${m[3]}`,
    );
    // Every cond( call has a literal type, status and reason (else this test could not see it).
    expect(literals.length).toBe([...src.matchAll(/cond\(/g)].length);
    expect([...written].sort()).toEqual([...new Set(literals)].sort());
    expect([...written].sort()).toEqual([...documented('VelozStrategy')].sort());
  });
});
