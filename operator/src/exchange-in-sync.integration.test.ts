// ExchangeInSync end to end: the operator (in this process) on a real API server (its own local
// cluster, hack/cluster.sh; pods are kwok fakes), whose engine pod is answered by a real engine
// process trading on the fake Binance. A drift the engine cannot repair (the exchange holds less
// BTC than the WAL's position) halts that engine and turns ExchangeInSync False on the pair and
// the desk, with a Warning Event; once the drift is gone and trading resumed, it is True again.
import type { Condition } from '@veloz/api/generated/types';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateCluster, clusterBinariesBuilt, until } from '@veloz/testing/private-cluster';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';
import {
  FAKE_API_KEY as KEY,
  FAKE_API_SECRET as SECRET,
  fakeBinanceEngineEnv,
} from '@veloz/testing/fake-binance/engine-env';
import { FakeBinance, toUnits } from '@veloz/testing/fake-binance/server';
import { loadOperatorConfig } from './config.ts';
import { httpJson, type EngineAccess } from './engine-access.ts';
import { startOperator, type RunningOperator } from './manager.ts';

const NS = 'desk-sync';
const built = clusterBinariesBuilt();

interface Desk {
  status?: { conditions?: Condition[]; pairs?: Array<{ index: number; conditions?: Condition[] }> };
}

describe.skipIf(!built)(
  built
    ? 'ExchangeInSync on a local cluster'
    : 'ExchangeInSync on a local cluster: SKIPPED, the cluster binaries are not built (run hack/build-k8s.sh)',
  () => {
    const cluster = new PrivateCluster('sync');
    let fake: FakeBinance;
    let engine: EngineProcess;
    let walDir = '';
    let operator: RunningOperator | undefined;
    const kubectl = cluster.kubectl.bind(cluster);
    const ok = cluster.ok.bind(cluster);
    const desk = (): Desk => JSON.parse(ok(kubectl(['-n', NS, 'get', 'vzd', 'desk', '-o', 'json']))) as Desk;
    const inSync = (d: Desk) => d.status?.conditions?.find((c) => c.type === 'ExchangeInSync');
    const pairInSync = (d: Desk) =>
      d.status?.pairs?.find((p) => p.index === 0)?.conditions?.find((c) => c.type === 'ExchangeInSync');
    // Every engine pod of the desk is answered by the one engine process.
    const access: EngineAccess = {
      call: (_ns, _pod, method, path, body, signal) =>
        httpJson(`${engine.url}${path}`, method, body, 10_000, signal),
    };

    beforeAll(async () => {
      fake = await FakeBinance.start({ apiKey: KEY, apiSecret: SECRET, bookTickerIntervalMs: 50 });
      walDir = await mkdtemp(join(tmpdir(), 'veloz-sync-wal-'));
      engine = await startEngineProcess(
        fakeBinanceEngineEnv(fake, walDir, { VELOZ_RECONCILE_INTERVAL: '200' }),
      );
      cluster.up({ crds: true });
      ok(kubectl(['create', 'namespace', NS]));
      ok(
        kubectl(
          ['-n', NS, 'create', 'secret', 'generic', 'binance-testnet'].concat([
            `--from-literal=apiKey=${KEY}`,
            `--from-literal=apiSecret=${SECRET}`,
          ]),
        ),
      );
      cluster.apply(
        {
          apiVersion: 'veloz.io/v1alpha1',
          kind: 'VelozDeployment',
          metadata: { name: 'desk' },
          spec: {
            pairs: 1,
            market: { source: 'binance_ws', symbols: ['BTCUSDT'] },
            execution: {
              mode: 'binance_testnet_spot',
              credentialsSecretRef: { name: 'binance-testnet' },
            },
            wal: { storage: { size: '1Gi' } },
          },
        },
        NS,
      );
      const cfg = loadOperatorConfig(
        [
          '--namespaces',
          NS,
          '--kubeconfig',
          cluster.kubeconfig,
          '--metrics-port',
          '0',
          '--wal-status-interval',
          '1',
        ],
        {},
      );
      operator = await startOperator(cfg, pino({ level: 'silent' }), access);
    }, 600_000);

    afterAll(async () => {
      await operator?.stop();
      await engine?.kill('SIGKILL');
      await fake?.close();
      cluster.down();
      if (walDir) await rm(walDir, { recursive: true, force: true });
    }, 120_000);

    it('is True while the engine agrees with the exchange', async () => {
      const d = await until('ExchangeInSync=True', () => {
        const d = desk();
        return inSync(d)?.status === 'True' ? d : undefined;
      });
      expect(inSync(d)).toMatchObject({ reason: 'InSync' });
      expect(pairInSync(d)).toMatchObject({ status: 'True', reason: 'InSync' });
    });

    it('turns False on the pair and the desk when a drift halts the engine, and True again after it', async () => {
      const buy = await httpJson<{ orderId: number }>(`${engine.url}/api/orders`, 'POST', {
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'MARKET',
        quantity: '0.010',
      });
      expect(buy.status).toBe(201);
      await until('the buy filled', async () => {
        const o = await httpJson<{ status: string }>(`${engine.url}/api/orders/${buy.body.orderId}`, 'GET');
        return o.body.status === 'FILLED' ? true : undefined;
      });
      fake.balances.get('BTC')!.free = toUnits('0.001');

      const d = await until('ExchangeInSync=False', () => {
        const d = desk();
        return inSync(d)?.status === 'False' ? d : undefined;
      });
      expect(inSync(d)?.reason).toBe('OutOfSync');
      expect(inSync(d)?.message).toMatch(/^pair 0: new orders halted: the WAL's BTCUSDT position needs/);
      expect(pairInSync(d)).toMatchObject({ status: 'False', reason: 'OutOfSync' });
      const refused = await httpJson<{ reason?: string }>(`${engine.url}/api/orders`, 'POST', {
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT',
        quantity: '0.010',
        price: '49000.00',
      });
      expect(refused.status).toBe(422);
      const events = await until('a Warning Event', () => {
        const list = JSON.parse(ok(kubectl(['-n', NS, 'get', 'events', '-o', 'json']))) as {
          items: Array<{ type: string; reason: string; message: string }>;
        };
        const e = list.items.find((x) => x.reason === 'OutOfSync');
        return e ? e : undefined;
      });
      expect(events).toMatchObject({ type: 'Warning' });
      expect(events.message).toMatch(/^ExchangeInSync=False: pair 0:/);

      // The operator's way out: fix the account, then resume trading on the engine.
      fake.balances.get('BTC')!.free = toUnits('1000');
      await httpJson(`${engine.url}/api/trading/resume`, 'POST');
      const back = await until('ExchangeInSync=True again', () => {
        const d = desk();
        return inSync(d)?.status === 'True' ? d : undefined;
      }).catch(async (err: unknown) => {
        const r = await httpJson(`${engine.url}/api/exchange/reconciliation`, 'GET');
        throw new Error(
          `${String(err)}; the engine reports ${JSON.stringify(r.body)}; ${JSON.stringify(desk().status)}`,
        );
      });
      expect(pairInSync(back)).toMatchObject({ status: 'True', reason: 'InSync' });
    });
  },
);
