// The status and order views on answers recorded from real in-process engines (two pairs that
// traded), so the sums are checked against what each engine says on its own, not against a copy
// of the summing code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { VelozDeployment } from '@veloz/api/generated/types';
import type {
  Health,
  Order,
  OrdersState,
  Position,
  Reconciliation,
  WalStatus,
} from '@veloz/api/http/contract';
import { startFixture, type Fixture } from '@veloz/testing/engine-fixture';
import { finished, jobFromCronJob, pairIndexes, restoredDesk } from './actions.ts';
import { asDesk } from './desk-read.ts';
import { deskStatus, type DeskObserved, type PairReading } from './desk-status.ts';
import { mergeOrders, ordersText } from './orders.ts';
import { COLOUR, outputFormat, PLAIN, serialize } from './output.ts';
import { statusText } from './status-text.ts';

let engines: Fixture[] = [];
let readings: PairReading[] = [];
/** Each engine's own open-order count (GET /api/orders_state?status=open). */
let ownOpen: number[] = [];

async function place(fx: Fixture, body: Record<string, string>): Promise<void> {
  const res = await fx.app.inject({
    method: 'POST',
    url: '/api/orders',
    payload: { symbol: 'BTCUSDT', ...body },
  });
  expect(res.statusCode, res.body).toBe(201);
}

async function record(fx: Fixture, index: number): Promise<PairReading> {
  const get = async <T>(url: string): Promise<T> => {
    const res = await fx.app.inject(url);
    expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
    return res.json<T>();
  };
  return {
    index,
    enginePod: `desk-engine-${index}`,
    health: await get<Health>('/health'),
    orders: (await get<OrdersState>('/api/orders_state')).orders,
    positions: (await get<{ positions: Position[] }>('/api/positions')).positions,
    wal: await get<WalStatus>('/api/wal/status'),
    reconciliation: await get<Reconciliation>('/api/exchange/reconciliation'),
  };
}

const deployment = (pairs: number): VelozDeployment =>
  ({
    apiVersion: 'veloz.io/v1alpha1',
    kind: 'VelozDeployment',
    metadata: { name: 'desk', namespace: 'trading' },
    spec: {
      pairs,
      paused: false,
      image: 'veloz:test',
      execution: { mode: 'sim_engine' },
      gateway: {},
    },
    status: {
      phase: 'Ready',
      readyPairs: pairs,
      lastBackup: { time: '2026-01-01T00:00:00Z', result: 'Succeeded' },
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'AllPairsReady',
          message: 'all pairs ready',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    },
  }) as unknown as VelozDeployment;

const pods = (n: number) =>
  Array.from({ length: n }, (_, i) => [
    { name: `desk-engine-${i}`, ready: true, phase: 'Running', image: 'veloz:test', restarts: 0 },
    { name: `desk-gateway-${i}`, ready: true, phase: 'Running', image: 'veloz:test', restarts: 0 },
  ]).flat();

const observed = (pairs: PairReading[]): DeskObserved => ({
  deployment: deployment(pairs.length),
  pods: pods(pairs.length),
  pairs,
  events: [
    {
      time: '2026-01-01T00:00:00Z',
      type: 'Normal',
      reason: 'Applied',
      object: 'VelozDeployment/desk',
      message: 'ok',
    },
  ],
  now: Date.now(),
});

beforeAll(async () => {
  engines = [await startFixture(), await startFixture()];
  const [a, b] = engines as [Fixture, Fixture];
  for (const fx of engines) fx.engine.stepMarket('BTCUSDT');
  await place(a, { side: 'BUY', type: 'MARKET', quantity: '0.003' });
  await place(a, { side: 'BUY', type: 'LIMIT', quantity: '0.001', price: '10000.00' });
  await place(b, { side: 'SELL', type: 'MARKET', quantity: '0.001' });
  await place(b, { side: 'BUY', type: 'LIMIT', quantity: '0.002', price: '10000.00' });
  await place(b, { side: 'BUY', type: 'LIMIT', quantity: '0.002', price: '10001.00' });
  readings = [await record(a, 0), await record(b, 1)];
  ownOpen = await Promise.all(
    engines.map(
      async (fx) => (await fx.app.inject('/api/orders_state?status=open')).json<OrdersState>().orders.length,
    ),
  );
});
afterAll(async () => {
  for (const fx of engines) await fx.close();
});

describe('deskStatus', () => {
  it('sums the engines’ own answers: open and filled orders, position and PnL per symbol, WAL entries', () => {
    const s = deskStatus(observed(readings));
    expect(ownOpen).toEqual([1, 2]);
    expect(s.orders.open).toBe(ownOpen[0]! + ownOpen[1]!);
    expect(s.orders.filledToday).toBe(2);
    const own = readings.flatMap((r) => r.positions ?? []).filter((p) => p.symbol === 'BTCUSDT');
    const btc = s.positions.find((p) => p.symbol === 'BTCUSDT');
    expect(Number(btc?.quantity)).toBeCloseTo(
      own.reduce((n, p) => n + Number(p.quantity), 0),
      9,
    );
    expect(Number(btc?.quantity)).toBeCloseTo(0.002, 9);
    expect(Number(btc?.realizedPnl)).toBeCloseTo(
      own.reduce((n, p) => n + Number(p.realizedPnl), 0),
      9,
    );
    expect(Number(btc?.unrealizedPnl)).toBeCloseTo(
      own.reduce((n, p) => n + Number(p.unrealizedPnl), 0),
      9,
    );
    expect(s.wal.entries).toBe(readings.reduce((n, r) => n + (r.wal?.durableSequence ?? 0), 0));
    expect(s.wal.entries).toBeGreaterThan(0);
    expect(s.exchangeInSync).toBe(true);
    expect(s.pairs.map((p) => [p.index, p.executionMode, p.ordersOpen])).toEqual([
      [0, 'sim_engine', 1],
      [1, 'sim_engine', 2],
    ]);
    expect(s.incomplete).toEqual([]);
  });

  it('leaves an engine that was not read out of the totals, names it and falls back to the operator’s WAL figures', () => {
    const o = observed([
      readings[0]!,
      { index: 1, enginePod: 'desk-engine-1', error: 'not reachable: connection refused' },
    ]);
    o.deployment.status!.pairs = [{ index: 1, walEntries: 42, lastCheckpoint: '2026-01-01T00:00:00Z' }];
    const s = deskStatus(o);
    expect(s.incomplete).toEqual([1]);
    expect(s.orders.open).toBe(ownOpen[0]);
    expect(s.pairs[1]).toMatchObject({ error: 'not reachable: connection refused', walEntries: 42 });
    const text = statusText(s, PLAIN, o.now);
    expect(text).toContain('pair 1: engine desk-engine-1 not read: not reachable: connection refused');
    expect(text).toContain('totals leave out pair 1');
  });

  it('renders plain text for a pipe, colour for a terminal, and JSON or YAML of the same model', () => {
    const o = observed(readings);
    const s = deskStatus(o);
    const plain = statusText(s, PLAIN, o.now);
    expect(plain).not.toContain('\u001b[');
    for (const line of [
      'VelozDeployment trading/desk  Ready',
      'Mode:           sim_engine',
      'Pairs:          2/2 ready',
      'Orders:         3 open, 2 filled today (UTC)',
      'Exchange sync:  in sync',
      'Ready  True    AllPairsReady  all pairs ready',
    ])
      expect(plain).toContain(line);
    expect(plain).toMatch(/^BTCUSDT\s+0\.002/m);
    expect(statusText(s, COLOUR, o.now)).toContain('\u001b[32mReady\u001b[0m');
    expect(JSON.parse(serialize(s, 'json'))).toEqual(s);
    expect(parseYaml(serialize(s, 'yaml'))).toEqual(s);
    expect(() => outputFormat('xml')).toThrow(/-o xml: expected json or yaml/);
  });
});

describe('mergeOrders', () => {
  it('merges every pair’s orders with the pair of each, filtered by --open and --symbol', () => {
    const all = mergeOrders(readings);
    expect(all).toHaveLength(readings.reduce((n, r) => n + (r.orders?.length ?? 0), 0));
    expect(all.filter((o) => o.pair === 1).map((o) => o.orderId)).toEqual(
      readings[1]!.orders!.map((o: Order) => o.orderId),
    );
    expect(mergeOrders(readings, { open: true })).toHaveLength(ownOpen[0]! + ownOpen[1]!);
    expect(mergeOrders(readings, { symbol: 'ETHUSDT' })).toEqual([]);
    const text = ordersText(mergeOrders(readings, { open: true }), PLAIN);
    expect(text.split('\n')[0]).toMatch(/^PAIR\s+ORDER\s+CLIENT ORDER ID\s+SYMBOL/);
    expect(text.trim().split('\n')).toHaveLength(4);
    expect(ordersText([], PLAIN)).toBe('No orders.\n');
  });
});

describe('actions', () => {
  it('checks --pair against spec.pairs', () => {
    const d = asDesk(deployment(3), 'trading');
    expect(pairIndexes(d, undefined)).toEqual([0, 1, 2]);
    expect(pairIndexes(d, '2')).toEqual([2]);
    expect(() => pairIndexes(d, '3')).toThrow('--pair 3: desk desk has 3 pairs (0..2)');
    expect(() => pairIndexes(d, 'x')).toThrow(/--pair x/);
  });

  it('makes the backup Job as kubectl create job --from=cronjob does, owned by the CronJob', () => {
    const job = jobFromCronJob(
      {
        metadata: { name: 'desk-wal-backup', namespace: 'trading', uid: 'u1' },
        spec: {
          jobTemplate: {
            metadata: { labels: { 'app.kubernetes.io/instance': 'desk' } },
            spec: { backoffLimit: 1 },
          },
        },
      },
      'desk-wal-backup-manual-1',
    );
    expect(job).toMatchObject({
      kind: 'Job',
      metadata: {
        name: 'desk-wal-backup-manual-1',
        namespace: 'trading',
        labels: { 'app.kubernetes.io/instance': 'desk' },
        annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' },
        ownerReferences: [{ kind: 'CronJob', name: 'desk-wal-backup', uid: 'u1', controller: true }],
      },
      spec: { backoffLimit: 1 },
    });
    expect(finished({ status: { conditions: [{ type: 'Complete', status: 'True' }] } })?.result).toBe(
      'Succeeded',
    );
    expect(
      finished({
        status: {
          conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'x' }],
        },
      }),
    ).toEqual({ result: 'Failed', message: 'BackoffLimitExceeded: x' });
    expect(finished({ status: {} })).toBeUndefined();
  });

  it('restore --to: a new desk with the same spec, reading the old desk’s backups where they are', () => {
    const d = asDesk(deployment(2), 'trading');
    d.spec.backup = {
      schedule: '@daily',
      retentionDays: 7,
      suspend: false,
      destination: { volume: { size: '1Gi' } },
    };
    expect(restoredDesk(d, 'desk2', '2026-01-02T03:04:05Z')).toMatchObject({
      metadata: { name: 'desk2', namespace: 'trading' },
      spec: {
        pairs: 2,
        backup: { destination: { volume: { claimName: 'desk-backups' } } },
        restore: {
          // Each of the 2 pairs restores its own: the CRD refuses more than one pair without this.
          fromBackup: {
            source: '/backups',
            deployment: 'desk',
            backupPairs: 2,
            upToTimestamp: '2026-01-02T03:04:05Z',
          },
        },
      },
    });
    d.spec.backup.destination = { s3: { bucket: 'b', prefix: 'wal' } };
    expect(restoredDesk(d, 'desk2', undefined)).toMatchObject({
      spec: {
        backup: { destination: { s3: { bucket: 'b' } } },
        restore: { fromBackup: { source: 's3://b/wal', deployment: 'desk' } },
      },
    });
    expect(() => restoredDesk(d, 'desk', undefined)).toThrow(/a name of its own/);
    expect(() => restoredDesk(d, 'Desk_2', undefined)).toThrow(/--to Desk_2/);
    expect(() => restoredDesk(d, 'desk2', 'yesterday')).toThrow(
      /--up-to yesterday: expected an RFC 3339 time/,
    );
  });
});
