import type { StrategyEngineStatus, VelozStrategy } from '@veloz/api/generated/types';
import { describe, expect, it } from 'vitest';
import {
  cleanupPendingStatus,
  computeStrategyStatus,
  runsOn,
  type ObservedStrategy,
} from './strategy-status.ts';

const NOW = '2026-11-21T10:00:00.000Z';
const BEFORE = '2026-11-21T09:00:00.000Z';

function strategy(
  spec: Partial<VelozStrategy['spec']> = {},
  status?: VelozStrategy['status'],
): VelozStrategy {
  return {
    apiVersion: 'veloz.io/v1alpha1',
    kind: 'VelozStrategy',
    metadata: { name: 'grid-1', namespace: 'ns', generation: 3 },
    spec: {
      deploymentRef: { name: 'desk' },
      type: 'grid',
      symbol: 'BTCUSDT',
      params: {},
      enabled: true,
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

const running = (pair: number, position: string, pnl: string, orders: number): StrategyEngineStatus => ({
  pair,
  state: 'running',
  position,
  realizedPnl: pnl,
  unrealizedPnl: '0',
  ordersPlaced: orders,
});
const desk = { name: 'desk', pairs: 2, symbols: ['BTCUSDT', 'ETHUSDT'] };
const observed = (o: Partial<ObservedStrategy> = {}): ObservedStrategy => ({
  deployment: desk,
  engines: [running(0, '0.5', '1.25', 3), running(1, '-0.2', '-0.5', 2)],
  rejected: [],
  unreachable: [],
  ...o,
});
const condition = (s: ReturnType<typeof computeStrategyStatus>, type: string) =>
  s.conditions?.find((c) => c.type === type);

describe('computeStrategyStatus', () => {
  it.each<
    [
      string,
      Partial<VelozStrategy['spec']>,
      Partial<ObservedStrategy>,
      Record<string, [string, string, string]>,
    ]
  >([
    [
      'every targeted engine running',
      {},
      {},
      {
        Accepted: ['True', 'Accepted', 'runs on 2 engine(s) of desk'],
        Running: ['True', 'AllEnginesRunning', '2/2 engines running'],
        Halted: ['False', 'NotHalted', 'no guardrail crossed'],
        Degraded: ['False', 'AsExpected', ''],
      },
    ],
    [
      'an engine not ready yet',
      {},
      {
        engines: [
          running(0, '0', '0', 0),
          { pair: 1, state: 'pending', lastError: 'engine desk-engine-1 is not ready' },
        ],
      },
      { Running: ['False', 'EnginesPending', '1/2 engines running'], Degraded: ['False', 'AsExpected', ''] },
    ],
    [
      'an engine not reached',
      {},
      {
        engines: [running(0, '0', '0', 0), { pair: 1, state: 'unreachable', lastError: 'timed out' }],
        unreachable: ['engine ns/desk-engine-1: timed out'],
      },
      {
        Running: ['False', 'EnginesPending', '1/2 engines running'],
        Degraded: ['True', 'EngineUnreachable', 'engine ns/desk-engine-1: timed out'],
      },
    ],
    [
      'engines rejecting the spec',
      {},
      {
        engines: [running(0, '0', '0', 0), { pair: 1, state: 'rejected', lastError: 'levels out of range' }],
        rejected: ['engine desk-engine-1 rejected it: levels out of range'],
        unreachable: ['engine ns/desk-engine-0: timed out'],
      },
      {
        Running: ['False', 'Rejected', '1/2 engines rejected it'],
        Degraded: ['True', 'EngineRejected', 'engine desk-engine-1 rejected it: levels out of range'],
      },
    ],
    [
      'a guardrail crossed on one engine',
      {},
      {
        engines: [
          running(0, '0', '0', 0),
          {
            pair: 1,
            state: 'halted',
            halt: {
              guardrail: 'maxLoss',
              value: '-12.5000000',
              limit: '10.00',
              reason: 'PnL -12.5000000 reached the maxLoss of 10.00',
              time: BEFORE,
            },
          },
        ],
      },
      {
        Running: ['False', 'Halted', '1/2 engines halted by a guardrail'],
        Halted: [
          'True',
          'GuardrailCrossed',
          `pair 1: maxLoss -12.5000000 (limit 10.00) at ${BEFORE}; its open orders were cancelled. To resume, set spec.resumeAfter to now (after fixing the cause)`,
        ],
        Degraded: ['False', 'AsExpected', ''],
      },
    ],
    ['disabled', { enabled: false }, {}, { Running: ['False', 'Paused', 'spec.enabled is false'] }],
    [
      'no engine to run on',
      { pairs: [5] },
      { engines: [] },
      {
        Accepted: ['True', 'Accepted', 'runs on 0 engine(s) of desk'],
        Running: [
          'False',
          'NoEngines',
          'no engine to run on: desk has 2 pair(s), the strategy asks for pairs 5 of it',
        ],
      },
    ],
    [
      'a hibernated deployment',
      {},
      { deployment: { ...desk, pairs: 0 }, engines: [] },
      {
        Running: [
          'False',
          'NoEngines',
          'no engine to run on: desk has 0 pair(s), the strategy asks for any pair of it',
        ],
      },
    ],
    [
      'no such deployment',
      {},
      { deployment: undefined },
      { Accepted: ['False', 'DeploymentNotFound', 'VelozDeployment desk not found'] },
    ],
    [
      'a symbol the deployment does not trade',
      { symbol: 'SOLUSDT' },
      {},
      { Accepted: ['False', 'SymbolNotTraded', 'SOLUSDT is not among BTCUSDT, ETHUSDT of desk'] },
    ],
  ])('%s', (_name, spec, o, expected) => {
    const st = computeStrategyStatus(strategy(spec), observed(o), NOW);
    for (const [type, [status, reason, message]] of Object.entries(expected))
      expect(condition(st, type), type).toMatchObject({ status, reason, message, observedGeneration: 3 });
    expect(st.observedGeneration).toBe(3);
    expect(st.conditions?.map((c) => c.type)).toEqual([...(st.conditions ?? [])].map((c) => c.type).sort());
  });

  it('sums the engines exactly, and reports none while not accepted', () => {
    const st = computeStrategyStatus(strategy(), observed(), NOW);
    expect(st).toMatchObject({
      runningEngines: 2,
      position: '0.3',
      realizedPnl: '0.75',
      unrealizedPnl: '0',
      ordersPlaced: 5,
    });
    expect(computeStrategyStatus(strategy(), observed({ deployment: undefined }), NOW)).toMatchObject({
      engines: [],
      runningEngines: 0,
      ordersPlaced: 0,
    });
  });

  it('keeps what a pass did not decide, and a transition time while a condition holds', () => {
    const before = computeStrategyStatus(strategy(), observed(), BEFORE);
    const lost = computeStrategyStatus(strategy({}, before), observed({ deployment: undefined }), NOW);
    expect(condition(lost, 'Running')).toEqual(condition(before, 'Running'));
    expect(condition(lost, 'Accepted')).toMatchObject({ status: 'False', lastTransitionTime: NOW });
    const again = computeStrategyStatus(strategy({}, before), observed(), NOW);
    expect(again.conditions).toEqual(before.conditions);
  });

  it('says whether the strategy runs on the deployment at all', () => {
    expect(runsOn(strategy(), desk)).toBe(true);
    expect(runsOn(strategy({ symbol: 'SOLUSDT' }), desk)).toBe(false);
    expect(runsOn(strategy(), undefined)).toBe(false);
  });
});

describe('cleanupPendingStatus', () => {
  it('is Degraded with why, keeping the engines and the other conditions as they were', () => {
    const before = computeStrategyStatus(strategy(), observed(), BEFORE);
    const st = cleanupPendingStatus(strategy({}, before), ['engine desk-engine-1: DELETE answered 500'], NOW);
    expect(condition(st, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'CleanupPending',
      message: 'cannot stop the strategy yet: engine desk-engine-1: DELETE answered 500',
    });
    expect(condition(st, 'Running')).toEqual(condition(before, 'Running'));
    expect(st.engines).toEqual(before.engines);
  });
});
