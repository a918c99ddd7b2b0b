// One desk per exchange account (issue 18, ADR 0017), end to end: the operator (in this process)
// on a real API server (its own local cluster, hack/cluster.sh; pods are kwok fakes). A second
// desk on the same API key, in another namespace, is refused with AccountConflict and runs no
// pods; deleting the first lets it start; two desks of one share group split one risk budget.
import type { Condition } from '@veloz/api/generated/types';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateCluster, clusterBinariesBuilt, until } from '@veloz/testing/private-cluster';
import { ACCOUNT_KEY_SECRET } from './accounts.ts';
import { loadOperatorConfig } from './config.ts';
import type { EngineAccess } from './engine-access.ts';
import { startOperator, type RunningOperator } from './manager.ts';

const KEY = 'shared-api-key-0123456789';
const SECRET = 'shared-api-secret-abcdefghijklmnop';
const [A, B, OPS] = ['acct-a', 'acct-b', 'acct-ops'];
const built = clusterBinariesBuilt();

interface Desk {
  status?: { conditions?: Condition[] };
}

describe.skipIf(!built)(
  built
    ? 'one desk per exchange account on a local cluster'
    : 'one desk per exchange account on a local cluster: SKIPPED, the cluster binaries are not built (run hack/build-k8s.sh)',
  () => {
    const cluster = new PrivateCluster('acct');
    let operator: RunningOperator | undefined;
    const kubectl = cluster.kubectl.bind(cluster);
    const ok = cluster.ok.bind(cluster);
    const json = cluster.json.bind(cluster);
    const condition = (ns: string, name: string) => {
      const d = json<Desk>(ns, 'vzd', name);
      return d.status?.conditions?.find((c) => c.type === 'AccountConflict');
    };
    const replicas = (ns: string, sts: string) => {
      const r = kubectl(['-n', ns, 'get', 'sts', sts, '-o', 'jsonpath={.spec.replicas}']);
      return r.code === 0 ? Number(r.stdout) : undefined;
    };
    const pods = (ns: string, desk: string) =>
      json<{ items: unknown[] }>(ns, 'pods', '-l', `app.kubernetes.io/instance=${desk}`).items.length;
    const config = (ns: string, desk: string) =>
      json<{ data: Record<string, string> }>(ns, 'configmap', `${desk}-config`).data;
    const deskYaml = (name: string, spec: Record<string, unknown>) =>
      stringify({
        apiVersion: 'veloz.io/v1alpha1',
        kind: 'VelozDeployment',
        metadata: { name },
        spec: {
          market: { source: 'sim', symbols: ['BTCUSDT'] },
          execution: { mode: 'binance_testnet_spot', credentialsSecretRef: { name: 'binance' } },
          wal: { storage: { size: '1Gi' } },
          monitoring: { serviceMonitor: { enabled: false }, prometheusRule: { enabled: false } },
          ...spec,
        },
      });
    // No engine answers here (nothing runs in kwok pods); the operator is not asked to call one.
    const access: EngineAccess = {
      call: () => Promise.reject(new Error('no engine in this test')),
    };

    beforeAll(async () => {
      cluster.up({ crds: true });
      for (const ns of [A, B, OPS]) ok(kubectl(['create', 'namespace', ns]));
      // The same exchange account, in two namespaces.
      for (const ns of [A, B])
        ok(
          kubectl([
            '-n',
            ns,
            'create',
            'secret',
            'generic',
            'binance',
            `--from-literal=apiKey=${KEY}`,
            `--from-literal=apiSecret=${SECRET}`,
          ]),
        );
      const cfg = loadOperatorConfig(
        [
          '--namespaces',
          `${A},${B}`,
          '--lease-namespace',
          OPS,
          '--kubeconfig',
          cluster.kubeconfig,
          '--metrics-port',
          '0',
          '--wal-status-interval',
          '0',
        ],
        {},
      );
      operator = await startOperator(cfg, pino({ level: 'silent' }), access);
    }, 600_000);

    afterAll(async () => {
      await operator?.stop();
      cluster.down();
    }, 120_000);

    it('lets the first desk hold the account, and refuses the second with AccountConflict and no pods', async () => {
      ok(kubectl(['-n', A, 'apply', '-f', '-'], deskYaml('desk', { pairs: 2 })));
      const held = await until('desk A holds the account', () => {
        const c = condition(A, 'desk');
        return c?.reason === 'AccountHeld' ? c : undefined;
      });
      expect(held.status).toBe('False');
      expect(held.message).toMatch(
        /^this desk holds the exchange account \(Lease acct-ops\/veloz-account-[0-9a-f]{32}\)$/,
      );
      await until('desk A engines', () => (replicas(A, 'desk-engine') === 2 ? true : undefined));

      ok(kubectl(['-n', B, 'apply', '-f', '-'], deskYaml('desk', { pairs: 1 })));
      const conflict = await until('desk B refused', () => {
        const c = condition(B, 'desk');
        return c?.status === 'True' ? c : undefined;
      });
      expect(conflict.reason).toBe('HeldByAnotherDesk');
      expect(conflict.message).toContain(
        'held by VelozDeployment acct-a/desk (Lease acct-ops/veloz-account-',
      );
      const degraded = json<Desk>(B, 'vzd', 'desk').status?.conditions?.find((c) => c.type === 'Degraded');
      expect(degraded).toMatchObject({ status: 'True', reason: 'AccountConflict' });
      // Nothing of B runs: both StatefulSets exist at 0 replicas, the backup is suspended.
      await until('desk B StatefulSets at 0', () =>
        replicas(B, 'desk-engine') === 0 && replicas(B, 'desk-gateway') === 0 ? true : undefined,
      );
      expect(pods(B, 'desk')).toBe(0);
      expect(
        ok(kubectl(['-n', B, 'get', 'cronjob', 'desk-wal-backup', '-o', 'jsonpath={.spec.suspend}'])),
      ).toBe('true');
      const warning = await until('a Warning Event on desk B', () => {
        const list = json<{ items: Array<{ type: string; reason: string; message: string }> }>(B, 'events');
        return list.items.find((e) => e.reason === 'HeldByAnotherDesk');
      });
      expect(warning.type).toBe('Warning');

      // One Lease for the account, naming its holder, and nowhere the API key.
      const leases = json<{
        items: Array<{ metadata: { name: string }; spec: { holderIdentity: string } }>;
      }>(OPS, 'leases');
      const accountLeases = leases.items.filter((l) => l.metadata.name.startsWith('veloz-account-'));
      expect(accountLeases.map((l) => l.spec.holderIdentity)).toEqual(['acct-a/desk']);
      expect(JSON.stringify(leases)).not.toContain(KEY);
      expect(JSON.stringify(json(B, 'vzd', 'desk'))).not.toContain(KEY);
      expect(JSON.stringify(json(B, 'events'))).not.toContain(KEY);
      // The hash key stays with the operator, in its Lease namespace.
      ok(kubectl(['-n', OPS, 'get', 'secret', ACCOUNT_KEY_SECRET]));
    }, 600_000);

    it('lets the second desk start once the first is deleted', async () => {
      ok(kubectl(['-n', A, 'delete', 'vzd', 'desk', '--wait=false']));
      const held = await until('desk B holds the account', () => {
        const c = condition(B, 'desk');
        return c?.reason === 'AccountHeld' ? c : undefined;
      });
      expect(held.status).toBe('False');
      await until('desk B engine scaled up', () => (replicas(B, 'desk-engine') === 1 ? true : undefined));
      const leases = json<{ items: Array<{ metadata: { name: string }; spec: { holderIdentity: string } }> }>(
        OPS,
        'leases',
      );
      expect(
        leases.items
          .filter((l) => l.metadata.name.startsWith('veloz-account-'))
          .map((l) => l.spec.holderIdentity),
      ).toEqual(['acct-b/desk']);
    }, 600_000);

    it('lets two desks of one share group trade on the account, splitting one risk budget', async () => {
      // desk B (1 pair, the default 1000 open orders and 10 orders/s) and desk2 (2 pairs, tighter).
      ok(
        kubectl(
          ['-n', A, 'apply', '-f', '-'],
          deskYaml('desk2', {
            pairs: 2,
            execution: {
              mode: 'binance_testnet_spot',
              credentialsSecretRef: { name: 'binance' },
              accountShare: 'eu-desks',
              orderRateLimit: 30,
            },
            risk: { maxOpenOrders: 90, maxPosition: '1.5' },
          }),
        ),
      );
      // Until B joins the group, desk2 is refused like any other second desk.
      await until('desk2 refused', () => (condition(A, 'desk2')?.status === 'True' ? true : undefined));
      ok(
        kubectl([
          '-n',
          B,
          'patch',
          'vzd',
          'desk',
          '--type=merge',
          '-p',
          JSON.stringify({ spec: { execution: { accountShare: 'eu-desks' }, risk: { maxPosition: '3' } } }),
        ]),
      );
      for (const [ns, name] of [
        [A, 'desk2'],
        [B, 'desk'],
      ] as const) {
        const c = await until(`${ns}/${name} shares the account`, () => {
          const c = condition(ns, name);
          return c?.reason === 'AccountShared' ? c : undefined;
        });
        expect(c.status).toBe('False');
        expect(c.message).toContain(
          'in share group eu-desks with acct-a/desk2, acct-b/desk: 3 pairs split one risk budget',
        );
      }
      // The smallest limits of the group over its 3 pairs, in every engine of both desks.
      const want = {
        VELOZ_RISK_MAX_OPEN_ORDERS: '30',
        VELOZ_RISK_MAX_POSITION: '0.5',
        VELOZ_ORDER_RATE_LIMIT: '3',
      };
      for (const [ns, name] of [
        [A, 'desk2'],
        [B, 'desk'],
      ] as const)
        await until(`${ns}/${name} engines get their share`, () => {
          const data = config(ns, name);
          return Object.entries(want).every(([k, v]) => data[k] === v) ? true : undefined;
        });
      await until('desk2 engines run', () => (replicas(A, 'desk2-engine') === 2 ? true : undefined));
      expect(replicas(B, 'desk-engine')).toBe(1);
    }, 600_000);
  },
);
