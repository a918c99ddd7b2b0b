// Custom resources the schema must reject (and a few updates it must allow), as data: the unit
// tests evaluate them in-process; an integration test can replay the same table against a real
// API server (create `oldObject` first when given, then create or update to `object`).
import type { VelozDeployment, VelozStrategy } from '@veloz/api/generated/types';
import { MAINTENANCE_INVALID_CASES, MAINTENANCE_VALID_CASES } from './crd-cases-maintenance.ts';

export interface SchemaCase {
  name: string;
  kind: 'VelozDeployment' | 'VelozStrategy';
  /** Created (or, with oldObject, updated to). Schema defaults are not applied yet. */
  object: Record<string, unknown>;
  /** The stored object before an update; transition rules compare against it. */
  oldObject?: Record<string, unknown>;
  /** The error: its field path as the API server reports it, and for CEL rules the message. */
  expect: { field: string; message?: string };
}

type DeepPartial<T> = {
  [K in keyof T]?: NonNullable<T[K]> extends object ? DeepPartial<NonNullable<T[K]>> : T[K];
};

const API = 'veloz.io/v1alpha1';

export function deployment(
  name: string,
  spec: DeepPartial<VelozDeployment['spec']> = {},
): Record<string, unknown> {
  return { apiVersion: API, kind: 'VelozDeployment', metadata: { name }, spec };
}

export function strategy(name: string, spec: DeepPartial<VelozStrategy['spec']>): Record<string, unknown> {
  return { apiVersion: API, kind: 'VelozStrategy', metadata: { name }, spec };
}

const testnet = {
  mode: 'binance_testnet_spot',
  credentialsSecretRef: { name: 'binance-testnet' },
} as const;

const grid = { deploymentRef: { name: 'prod' }, type: 'grid', symbol: 'BTCUSDT' } as const;

export const INVALID_CASES: SchemaCase[] = [
  ...MAINTENANCE_INVALID_CASES,
  {
    name: 'unknown execution mode',
    kind: 'VelozDeployment',
    object: deployment('bad-mode', { execution: { mode: 'paper' as 'sim_engine' } }),
    expect: { field: 'spec.execution.mode' },
  },
  {
    name: 'Binance mode without credentials',
    kind: 'VelozDeployment',
    object: deployment('no-creds', { execution: { mode: 'binance_testnet_spot' } }),
    expect: {
      field: 'spec.execution.credentialsSecretRef',
      message: 'execution.credentialsSecretRef is required unless execution.mode is sim_engine',
    },
  },
  {
    name: 'live trading without acknowledgement',
    kind: 'VelozDeployment',
    object: deployment('live', { execution: { ...testnet, mode: 'binance_spot' } }),
    expect: {
      field: 'spec.execution.acknowledgeLiveTrading',
      message: 'set execution.acknowledgeLiveTrading: true to confirm',
    },
  },
  {
    name: 'live trading with acknowledgement false',
    kind: 'VelozDeployment',
    object: deployment('live', {
      execution: { ...testnet, mode: 'binance_spot', acknowledgeLiveTrading: false },
    }),
    expect: { field: 'spec.execution.acknowledgeLiveTrading', message: 'acknowledgeLiveTrading' },
  },
  {
    name: 'testnet mode with the live trading host',
    kind: 'VelozDeployment',
    object: deployment('testnet-live-trade', {
      execution: { ...testnet, tradeBaseUrl: 'https://api.binance.com' },
    }),
    expect: { field: 'spec.execution.tradeBaseUrl', message: 'host/mode mismatch' },
  },
  {
    name: 'testnet mode with live REST market data',
    kind: 'VelozDeployment',
    object: deployment('testnet-live-rest', {
      market: { source: 'binance_rest', binanceBaseUrl: 'https://data-api.binance.vision' },
      execution: testnet,
    }),
    expect: { field: 'spec.market.binanceBaseUrl', message: 'host/mode mismatch' },
  },
  {
    name: 'testnet mode with live WebSocket market data',
    kind: 'VelozDeployment',
    object: deployment('testnet-live-ws', {
      market: { source: 'binance_ws', binanceWsBaseUrl: 'wss://STREAM.binance.com:9443/ws' },
      execution: testnet,
    }),
    expect: { field: 'spec.market.binanceWsBaseUrl', message: 'host/mode mismatch' },
  },
  {
    name: 'live mode with the testnet trading host',
    kind: 'VelozDeployment',
    object: deployment('live-testnet-trade', {
      execution: {
        ...testnet,
        mode: 'binance_spot',
        acknowledgeLiveTrading: true,
        tradeBaseUrl: 'https://testnet.binance.vision',
      },
    }),
    expect: { field: 'spec.execution.tradeBaseUrl', message: 'host/mode mismatch' },
  },
  {
    name: 'live mode with testnet market data',
    kind: 'VelozDeployment',
    object: deployment('live-testnet-ws', {
      market: { binanceWsBaseUrl: 'wss://stream.testnet.binance.vision/ws' },
      execution: { ...testnet, mode: 'binance_spot', acknowledgeLiveTrading: true },
    }),
    expect: { field: 'spec.market.binanceWsBaseUrl', message: 'host/mode mismatch' },
  },
  {
    name: 'negative pairs',
    kind: 'VelozDeployment',
    object: deployment('negative', { pairs: -1 }),
    expect: { field: 'spec.pairs' },
  },
  {
    name: 'too many pairs',
    kind: 'VelozDeployment',
    object: deployment('huge', { pairs: 65 }),
    expect: { field: 'spec.pairs' },
  },
  {
    name: 'cron schedule with four fields',
    kind: 'VelozDeployment',
    object: deployment('cron4', { backup: { schedule: '*/5 * * *' } }),
    expect: { field: 'spec.backup.schedule', message: 'backup.schedule must be a cron schedule' },
  },
  {
    name: 'restore drill schedule that is not a cron schedule',
    kind: 'VelozDeployment',
    object: deployment('drillcron', { backup: { verify: { schedule: 'every night' } } }),
    expect: {
      field: 'spec.backup.verify.schedule',
      message: 'backup.verify.schedule must be a cron schedule',
    },
  },
  {
    name: 'restore drills without a schedule',
    kind: 'VelozDeployment',
    object: deployment('drillnone', { backup: { verify: { suspend: true } } }),
    expect: { field: 'spec.backup.verify.schedule' },
  },
  {
    name: 'cron schedule with a TZ prefix',
    kind: 'VelozDeployment',
    object: deployment('crontz', { backup: { schedule: 'TZ=UTC */5 * * * *' } }),
    expect: { field: 'spec.backup.schedule', message: 'backup.schedule must be a cron schedule' },
  },
  {
    // Quartz syntax: Kubernetes' CronJob would refuse it, so the CR is refused first.
    name: 'cron schedule with a last-day-of-month L',
    kind: 'VelozDeployment',
    object: deployment('cronl', { backup: { schedule: '0 0 L * *' } }),
    expect: { field: 'spec.backup.schedule', message: 'backup.schedule must be a cron schedule' },
  },
  {
    name: 'cron schedule with an nth-weekday #',
    kind: 'VelozDeployment',
    object: deployment('cronhash', { backup: { schedule: '0 0 * * MON#2' } }),
    expect: { field: 'spec.backup.schedule', message: 'backup.schedule must be a cron schedule' },
  },
  {
    name: 'both backup destinations',
    kind: 'VelozDeployment',
    object: deployment('two-dests', {
      backup: { destination: { volume: { size: '5Gi' }, s3: { bucket: 'veloz-backups' } } },
    }),
    expect: {
      field: 'spec.backup.destination',
      message: 'backup.destination needs exactly one of volume or s3',
    },
  },
  {
    name: 'backup volume with both claimName and size',
    kind: 'VelozDeployment',
    object: deployment('claim-and-size', {
      backup: { destination: { volume: { claimName: 'existing', size: '5Gi' } } },
    }),
    expect: {
      field: 'spec.backup.destination.volume',
      message: 'backup.destination.volume needs exactly one of claimName or size',
    },
  },
  {
    name: 'lower-case symbol',
    kind: 'VelozDeployment',
    object: deployment('bad-symbol', { market: { symbols: ['BTCUSDT', 'eth-usdt'] } }),
    expect: { field: 'spec.market.symbols[1]', message: 'symbol must be 2-20 upper-case letters or digits' },
  },
  {
    name: 'WAL volume shrinks',
    kind: 'VelozDeployment',
    oldObject: deployment('shrink', { wal: { storage: { size: '10Gi' } } }),
    object: deployment('shrink', { wal: { storage: { size: '9Gi' } } }),
    expect: { field: 'spec.wal.storage.size', message: 'wal.storage.size can only grow' },
  },
  {
    name: 'WAL volume shrinks across units',
    kind: 'VelozDeployment',
    oldObject: deployment('shrink-units', { wal: { storage: { size: '1Gi' } } }),
    object: deployment('shrink-units', { wal: { storage: { size: '1000Mi' } } }),
    expect: { field: 'spec.wal.storage.size', message: 'wal.storage.size can only grow' },
  },
  {
    name: 'WAL storage class changed',
    kind: 'VelozDeployment',
    oldObject: deployment('sc', { wal: { storage: { storageClassName: 'fast-ssd' } } }),
    object: deployment('sc', { wal: { storage: { storageClassName: 'standard' } } }),
    expect: {
      field: 'spec.wal.storage.storageClassName',
      message: 'wal.storage.storageClassName is immutable',
    },
  },
  {
    name: 'WAL storage class set after creation',
    kind: 'VelozDeployment',
    oldObject: deployment('sc-added', {}),
    object: deployment('sc-added', { wal: { storage: { storageClassName: 'fast-ssd' } } }),
    expect: {
      field: 'spec.wal.storage.storageClassName',
      message: 'wal.storage.storageClassName is immutable',
    },
  },
  {
    name: 'WAL size that is not a quantity',
    kind: 'VelozDeployment',
    object: deployment('bad-size', { wal: { storage: { size: '10GB' } } }),
    expect: { field: 'spec.wal.storage.size' },
  },
  {
    name: 'risk limit that is not a decimal',
    kind: 'VelozDeployment',
    object: deployment('bad-decimal', { risk: { maxPosition: '-1' } }),
    expect: { field: 'spec.risk.maxPosition' },
  },
  {
    name: 'unknown Service type',
    kind: 'VelozDeployment',
    object: deployment('bad-svc', { gateway: { service: { type: 'Ingress' as 'ClusterIP' } } }),
    expect: { field: 'spec.gateway.service.type' },
  },
  {
    name: 'Secret name that is not a DNS name',
    kind: 'VelozDeployment',
    object: deployment('bad-secret', {
      execution: { ...testnet, credentialsSecretRef: { name: 'Binance_Keys' } },
    }),
    expect: { field: 'spec.execution.credentialsSecretRef.name' },
  },
  {
    name: 'memory pool below the engine minimum',
    kind: 'VelozDeployment',
    object: deployment('tiny-pool', { engine: { memoryPoolSize: 1024 } }),
    expect: { field: 'spec.engine.memoryPoolSize' },
  },
  {
    name: 'restore from a path without a backup volume',
    kind: 'VelozDeployment',
    object: deployment('restore-path', {
      backup: { destination: { s3: { bucket: 'veloz-backups' } } },
      restore: { fromBackup: { source: '/backups/prod/0' } },
    }),
    expect: { field: 'spec.restore.fromBackup.source', message: 'needs backup.destination.volume' },
  },
  {
    // `veloz restore --source-deployment` accepts only such names: the init container would exit 2.
    name: 'restore from a deployment name that is not a DNS label',
    kind: 'VelozDeployment',
    object: deployment('restore-other', {
      restore: { fromBackup: { source: '/backups', deployment: 'prod.eu' } },
    }),
    expect: { field: 'spec.restore.fromBackup.deployment' },
  },
  {
    // Issue 18: one pair's WAL copied into three engines would trade its orders three times.
    name: 'restore of one pair into three pairs',
    kind: 'VelozDeployment',
    object: deployment('restore-one-into-three', {
      pairs: 3,
      restore: { fromBackup: { source: '/backups', pair: 0 } },
    }),
    expect: {
      field: 'spec.restore.fromBackup.pair',
      message: 'with pairs > 1 give restore.fromBackup.pairSources',
    },
  },
  {
    name: 'restore into more pairs than the backup holds',
    kind: 'VelozDeployment',
    object: deployment('restore-two-into-three', {
      pairs: 3,
      restore: { fromBackup: { source: '/backups', backupPairs: 2 } },
    }),
    expect: { field: 'spec.restore.fromBackup', message: 'needs backupPairs >= pairs' },
  },
  {
    name: 'restore into several pairs without saying what the backup holds',
    kind: 'VelozDeployment',
    object: deployment('restore-unknown', { pairs: 2, restore: { fromBackup: { source: '/backups' } } }),
    expect: { field: 'spec.restore.fromBackup', message: 'needs backupPairs >= pairs' },
  },
  {
    name: 'restore with fewer pair sources than pairs',
    kind: 'VelozDeployment',
    object: deployment('restore-short-sources', {
      pairs: 3,
      restore: { fromBackup: { source: '/backups', pairSources: [0, 1] } },
    }),
    expect: {
      field: 'spec.restore.fromBackup',
      message: 'or pairSources with the source of each of the pairs',
    },
  },
  {
    name: 'restore naming a pair source the backup does not hold',
    kind: 'VelozDeployment',
    object: deployment('restore-missing-source', {
      pairs: 2,
      restore: { fromBackup: { source: '/backups', backupPairs: 2, pairSources: [1, 2] } },
    }),
    expect: {
      field: 'spec.restore.fromBackup.pairSources',
      message: 'names a pair the backup does not hold',
    },
  },
  {
    name: 'restore with both pair and pairSources',
    kind: 'VelozDeployment',
    object: deployment('restore-both', {
      restore: { fromBackup: { source: '/backups', pair: 0, pairSources: [0] } },
    }),
    expect: { field: 'spec.restore.fromBackup.pairSources', message: 'takes pair or pairSources, not both' },
  },
  {
    name: 'account share group that is not a DNS label',
    kind: 'VelozDeployment',
    object: deployment('bad-share', { execution: { ...testnet, accountShare: 'Team A' } }),
    expect: { field: 'spec.execution.accountShare' },
  },
  {
    name: 'scrape interval that is not a duration',
    kind: 'VelozDeployment',
    object: deployment('bad-interval', { monitoring: { serviceMonitor: { interval: '30 seconds' } } }),
    expect: { field: 'spec.monitoring.serviceMonitor.interval' },
  },
  {
    name: 'strategy moved to another deployment',
    kind: 'VelozStrategy',
    oldObject: strategy('moved', { ...grid, params: { spacing: '10', quantity: '0.001' } }),
    object: strategy('moved', {
      ...grid,
      deploymentRef: { name: 'other' },
      params: { spacing: '10', quantity: '0.001' },
    }),
    expect: { field: 'spec.deploymentRef', message: 'deploymentRef is immutable' },
  },
  {
    name: 'strategy symbol with a slash',
    kind: 'VelozStrategy',
    object: strategy('bad-symbol', {
      ...grid,
      symbol: 'BTC/USDT',
      params: { spacing: '10', quantity: '0.001' },
    }),
    expect: { field: 'spec.symbol', message: 'symbol must be 2-20 upper-case letters or digits' },
  },
  {
    name: 'unknown strategy type',
    kind: 'VelozStrategy',
    object: strategy('arb', { ...grid, type: 'arbitrage' as 'grid' }),
    expect: { field: 'spec.type' },
  },
  {
    name: 'grid without spacing',
    kind: 'VelozStrategy',
    object: strategy('grid-no-spacing', { ...grid, params: { quantity: '0.001' } }),
    expect: {
      field: 'spec.params',
      message: 'a grid strategy takes params levels, spacing, quantity, center',
    },
  },
  {
    name: 'market maker with a grid parameter',
    kind: 'VelozStrategy',
    object: strategy('mm-levels', {
      ...grid,
      type: 'market_maker',
      params: { spread: '1.0', quantity: '0.01', levels: 3 },
    }),
    expect: { field: 'spec.params', message: 'a market_maker strategy takes params' },
  },
  {
    name: 'strategy without deploymentRef',
    kind: 'VelozStrategy',
    object: strategy('orphan', {
      type: 'grid',
      symbol: 'BTCUSDT',
      params: { spacing: '10', quantity: '0.001' },
    }),
    expect: { field: 'spec.deploymentRef' },
  },
  {
    name: 'strategy on a pair index out of range',
    kind: 'VelozStrategy',
    object: strategy('pair-64', { ...grid, params: { spacing: '10', quantity: '0.001' }, pairs: [64] }),
    expect: { field: 'spec.pairs[0]' },
  },
  ...(
    [
      [
        'maxLoss of zero',
        { maxLoss: '0.00' },
        'spec.guardrails.maxLoss',
        'guardrails.maxLoss must be greater than zero',
      ],
      ['maxLoss as a negative number', { maxLoss: '-5' }, 'spec.guardrails.maxLoss', undefined],
      [
        'maxDrawdown of zero',
        { maxDrawdown: '0' },
        'spec.guardrails.maxDrawdown',
        'guardrails.maxDrawdown must be greater than zero',
      ],
      [
        'reject ratio above 1',
        { maxRejectRatio: { ratio: 1.5, window: '5m' } },
        'spec.guardrails.maxRejectRatio.ratio',
        undefined,
      ],
      [
        'reject ratio without a window',
        { maxRejectRatio: { ratio: 0.5 } },
        'spec.guardrails.maxRejectRatio.window',
        undefined,
      ],
      [
        'reject window that is not a duration',
        { maxRejectRatio: { ratio: 0.5, window: 'five minutes' } },
        'spec.guardrails.maxRejectRatio.window',
        'guardrails.maxRejectRatio.window must be a duration from 1s to 24h, such as 5m',
      ],
      [
        'reject window over a day',
        { maxRejectRatio: { ratio: 0.5, window: '25h' } },
        'spec.guardrails.maxRejectRatio.window',
        'guardrails.maxRejectRatio.window must be a duration from 1s to 24h, such as 5m',
      ],
      [
        'maxOrdersPerMinute of zero',
        { maxOrdersPerMinute: 0 },
        'spec.guardrails.maxOrdersPerMinute',
        undefined,
      ],
      [
        'staleMarketDataSeconds over a day',
        { staleMarketDataSeconds: 86401 },
        'spec.guardrails.staleMarketDataSeconds',
        undefined,
      ],
    ] as const
  ).map(([what, guardrails, field, message]): SchemaCase => ({
    name: `strategy guardrail: ${what}`,
    kind: 'VelozStrategy',
    object: strategy('guarded', { ...grid, params: { spacing: '10', quantity: '0.001' }, guardrails }),
    expect: message ? { field, message } : { field },
  })),
  {
    name: 'strategy resumeAfter that is not a time',
    kind: 'VelozStrategy',
    object: strategy('resume', { ...grid, params: { spacing: '10', quantity: '0.001' }, resumeAfter: 'now' }),
    expect: { field: 'spec.resumeAfter' },
  },
  ...['10.0.0.1', '10.0.0.0/33', '300.0.0.0/8', '2001:db8::/129', 'any'].map((range): SchemaCase => ({
    name: `gateway source range ${range} that is not a CIDR`,
    kind: 'VelozDeployment',
    object: deployment('bad-range', { gateway: { allowedSourceRanges: ['192.0.2.0/24', range] } }),
    expect: {
      field: 'spec.gateway.allowedSourceRanges[1]',
      message: 'gateway.allowedSourceRanges entries must be CIDRs such as 203.0.113.0/24 or 2001:db8::/32',
    },
  })),
  {
    name: 'gateway TLS without a Secret name',
    kind: 'VelozDeployment',
    object: deployment('tls', { gateway: { tls: {} } }),
    expect: { field: 'spec.gateway.tls.secretName' },
  },
];

/** Updates that must be accepted: the transition rules allow what they should. */
export const VALID_UPDATES: SchemaCase[] = [
  ...MAINTENANCE_VALID_CASES,
  {
    name: 'WAL volume grows',
    kind: 'VelozDeployment',
    oldObject: deployment('grow', { wal: { storage: { size: '1Gi', storageClassName: 'fast-ssd' } } }),
    object: deployment('grow', { wal: { storage: { size: '2Gi', storageClassName: 'fast-ssd' } } }),
    expect: { field: '' },
  },
  {
    name: 'WAL volume size rewritten in other units',
    kind: 'VelozDeployment',
    oldObject: deployment('units', { wal: { storage: { size: '1Gi' } } }),
    object: deployment('units', { wal: { storage: { size: '1024Mi' } } }),
    expect: { field: '' },
  },
  {
    name: 'strategy params change, deploymentRef kept',
    kind: 'VelozStrategy',
    oldObject: strategy('tuned', { ...grid, params: { spacing: '10', quantity: '0.001' } }),
    object: strategy('tuned', { ...grid, params: { spacing: '20', quantity: '0.002', levels: 8 } }),
    expect: { field: '' },
  },
  {
    name: 'strategy with every guardrail and a resume time',
    kind: 'VelozStrategy',
    object: strategy('guarded-ok', {
      ...grid,
      params: { spacing: '10', quantity: '0.001' },
      guardrails: {
        maxLoss: '250.50',
        maxDrawdown: '100',
        maxRejectRatio: { ratio: 0.25, window: '1h30m', minOrders: 20 },
        maxOrdersPerMinute: 600,
        staleMarketDataSeconds: 30,
      },
      resumeAfter: '2026-12-04T18:00:00Z',
    }),
    expect: { field: '' },
  },
  {
    name: 'testnet mode with testnet hosts, a proxy, or none',
    kind: 'VelozDeployment',
    object: deployment('testnet-hosts', {
      market: {
        source: 'binance_ws',
        binanceBaseUrl: 'https://testnet.binance.vision',
        binanceWsBaseUrl: 'wss://stream.testnet.binance.vision/ws',
      },
      execution: { ...testnet, tradeBaseUrl: 'https://binance-proxy.internal:8443' },
    }),
    expect: { field: '' },
  },
  {
    name: 'simulated execution on live prices',
    kind: 'VelozDeployment',
    object: deployment('paper', {
      market: { source: 'binance_ws', binanceWsBaseUrl: 'wss://stream.binance.com:9443/ws' },
    }),
    expect: { field: '' },
  },
  {
    name: 'restore of a two-pair backup into three pairs, each source given',
    kind: 'VelozDeployment',
    object: deployment('restore-sources', {
      pairs: 3,
      restore: { fromBackup: { source: '/backups', backupPairs: 3, pairSources: [2, 0, 1] } },
    }),
    expect: { field: '' },
  },
  {
    name: 'restore into as many pairs as the backup holds',
    kind: 'VelozDeployment',
    object: deployment('restore-same', {
      pairs: 2,
      restore: { fromBackup: { source: '/backups', backupPairs: 2 } },
    }),
    expect: { field: '' },
  },
  {
    name: 'restore of one chosen pair into a one-pair desk',
    kind: 'VelozDeployment',
    object: deployment('restore-one', { restore: { fromBackup: { source: '/backups', pair: 2 } } }),
    expect: { field: '' },
  },
  {
    name: 'two desks in one account share group',
    kind: 'VelozDeployment',
    object: deployment('shared', { execution: { ...testnet, accountShare: 'desk-eu' } }),
    expect: { field: '' },
  },
  {
    name: 'live trading acknowledged',
    kind: 'VelozDeployment',
    object: deployment('live-ok', {
      execution: { ...testnet, mode: 'binance_spot', acknowledgeLiveTrading: true },
    }),
    expect: { field: '' },
  },
];
