// The desk's engine tokens on a real API server (ADR 14): the operator makes Secret X-engine-token
// once, with a token per scope; engines mount all three, gateways only trading, backup jobs only
// backup; a token a person rotated in the Secret is kept, and rotating it rolls no pod. And the
// desk's NetworkPolicies with every egress rule, as the API server accepts them.
import { describe, expect, it } from 'vitest';
import { names } from '@veloz/api/names';
import type { KubeClient } from '@veloz/operator/kube/client';
import { RESOURCES, type KubernetesObject } from '@veloz/operator/kube/resources';
import type { Manifest } from '@veloz/testing/desk';
import { eventually } from './support/cluster.ts';
import { operatorPerTest } from './support/operator-per-test.ts';
import { sample } from './support/samples.ts';

const q = names('quickstart');
type Obj = KubernetesObject & { spec?: Manifest; data?: Record<string, string> };

let c: KubeClient;
let ns: { name: string; remove: () => Promise<void> };

operatorPerTest((t) => ({ c, ns } = t));

const decoded = (s: Obj | undefined) =>
  Object.fromEntries(Object.entries(s?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));

const tokenVolume = (pod: Manifest) =>
  pod.volumes.find((v: Manifest) => v.name === 'engine-token')?.secret as
    { secretName: string; items: Array<{ key: string }> } | undefined;

describe('engine tokens on a real API server', () => {
  it('are generated once per desk, mounted by scope, and a rotated token is kept without a roll', async () => {
    await c.apply(await sample<Obj>('VelozDeployment', ns.name));

    const secret = await eventually('the engine token Secret', () =>
      c.find<Obj>(RESOURCES.secret, ns.name, q.engineTokenSecret),
    );
    const tokens = decoded(secret);
    expect(Object.keys(tokens).sort()).toEqual(['admin', 'backup', 'trading']);
    for (const t of Object.values(tokens)) expect(t).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(Object.values(tokens)).size).toBe(3);
    expect(secret.metadata?.ownerReferences?.[0]?.kind).toBe('VelozDeployment');

    const engine = await eventually('the engine StatefulSet', () =>
      c.find<Obj>(RESOURCES.statefulSet, ns.name, q.engine),
    );
    const gateway = await eventually('the gateway StatefulSet', () =>
      c.find<Obj>(RESOURCES.statefulSet, ns.name, q.gateway),
    );
    const backup = await eventually('the backup CronJob', () =>
      c.find<Obj>(RESOURCES.cronJob, ns.name, q.backupCronJob),
    );
    const keys = (v: ReturnType<typeof tokenVolume>) => v?.items.map((i) => i.key);
    expect(tokenVolume(engine.spec.template.spec)?.secretName).toBe(q.engineTokenSecret);
    expect(keys(tokenVolume(engine.spec.template.spec))).toEqual(['trading', 'admin', 'backup']);
    expect(keys(tokenVolume(gateway.spec.template.spec))).toEqual(['trading']);
    expect(keys(tokenVolume(backup.spec.jobTemplate.spec.template.spec))).toEqual(['backup']);

    // Step one of a rotation (docs/security.md): the new trading token goes in second.
    const rotated = `${tokens['trading']}\nnew-trading-token`;
    await c.mergePatch(RESOURCES.secret, ns.name, q.engineTokenSecret, {
      data: { trading: Buffer.from(rotated).toString('base64') },
    });
    const checksum = (o: Obj | undefined) =>
      o?.spec.template.metadata.annotations['veloz.io/secrets-checksum'] as string | undefined;
    // A spec change makes the operator render and apply again.
    await c.mergePatch(RESOURCES.velozDeployment, ns.name, 'quickstart', {
      spec: { gateway: { rateLimitPerSecond: 77 } },
    });
    await eventually('the gateways to take the new rate limit', async () => {
      const g = await c.find<Obj>(RESOURCES.statefulSet, ns.name, q.gateway);
      return JSON.stringify(g?.spec.template.spec.containers[0].args).includes('"77"');
    });
    const after = await c.find<Obj>(RESOURCES.secret, ns.name, q.engineTokenSecret);
    expect(decoded(after)).toEqual({ ...tokens, trading: rotated });
    // The token files are read again by the running processes: the Secret is not in the checksum
    // that rolls pods.
    expect(checksum(await c.find<Obj>(RESOURCES.statefulSet, ns.name, q.engine))).toBe(checksum(engine));
  });

  it('has its NetworkPolicies, every egress rule included, accepted by the API server', async () => {
    await c.apply({
      apiVersion: 'veloz.io/v1alpha1',
      kind: 'VelozDeployment',
      metadata: { name: 'full', namespace: ns.name },
      spec: {
        market: { source: 'binance_ws' },
        execution: {
          mode: 'binance_testnet_spot',
          credentialsSecretRef: { name: 'creds' },
          exchangeCidrs: ['203.0.113.0/24', '2001:db8::/32'],
        },
        wal: { postgres: { secretRef: { name: 'pg' } } },
        backup: { destination: { s3: { bucket: 'veloz-b', endpoint: 'http://minio.storage:9000' } } },
        restore: { fromBackup: { source: 's3://veloz-b/p' } },
        monitoring: { scraper: { namespace: 'obs', podLabels: { app: 'vm' } } },
      },
    });
    const f = names('full');
    const engine = await eventually('NetworkPolicy full-engine', () =>
      c.find<Obj>(RESOURCES.networkPolicy, ns.name, f.engine),
    );
    const ports = (r: Manifest) => r.ports.map((p: Manifest) => `${p.protocol}/${p.port}`).join(',');
    expect(engine.spec.egress.map(ports)).toEqual([
      'UDP/53,TCP/53',
      // The API server, for the engines' Leases (ADR 18).
      'TCP/443,TCP/6443',
      'TCP/443,TCP/9443',
      'TCP/5432',
      'TCP/9000',
    ]);
    expect(engine.spec.egress[2].to).toEqual([
      { ipBlock: { cidr: '203.0.113.0/24' } },
      { ipBlock: { cidr: '2001:db8::/32' } },
    ]);
    expect(engine.spec.ingress[0].from[3]).toEqual({
      podSelector: { matchLabels: { app: 'vm' } },
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'obs' } },
    });
    const backup = await eventually('NetworkPolicy full-wal-backup', () =>
      c.find<Obj>(RESOURCES.networkPolicy, ns.name, f.backupCronJob),
    );
    expect(backup.spec.egress.map(ports)).toEqual(['UDP/53,TCP/53', 'TCP/8080', 'TCP/9000']);
  });
});
