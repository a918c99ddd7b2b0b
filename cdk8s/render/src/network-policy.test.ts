import { describe, expect, it } from 'vitest';
import { desk, type Manifest } from '@veloz/testing/desk';
import { backupNetworkPolicy, checkCidr, engineNetworkPolicy, s3Port } from './network-policy.ts';

const CTX = {
  defaultImage: 'veloz:1',
  engineTokens: { trading: 't', admin: 'a', backup: 'b' },
  monitoringApiServed: false,
};
const ns = (name: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': name } });
const ports = (rule: Manifest) => rule.ports.map((p: Manifest) => `${p.protocol}/${p.port}`);

describe('engineNetworkPolicy', () => {
  it('admits the desk’s gateways and backup jobs, and the operator and scraper only by namespace and labels together', () => {
    const np: Manifest = engineNetworkPolicy(desk('d1'), CTX);
    expect(np.metadata.name).toBe('d1-engine');
    const [rule] = np.spec.ingress;
    expect(rule.ports).toEqual([{ protocol: 'TCP', port: 8080 }]);
    expect(rule.from[0]).toEqual({
      podSelector: { matchLabels: expect.objectContaining({ 'app.kubernetes.io/component': 'gateway' }) },
    });
    expect(rule.from[1]).toEqual({
      podSelector: { matchLabels: expect.objectContaining({ 'app.kubernetes.io/component': 'backup' }) },
    });
    // Without a namespace selector a peer is the policy's own namespace; with an empty one, any.
    // Every peer from elsewhere names its namespace: pod labels alone can be forged.
    expect(rule.from.slice(2)).toEqual([
      {
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'veloz-operator' } },
        namespaceSelector: ns('veloz-system'),
      },
      {
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
        namespaceSelector: ns('monitoring'),
      },
    ]);
  });

  it('takes the operator from the context and the scraper from spec.monitoring over the context', () => {
    const ctx = {
      ...CTX,
      operatorPods: { namespace: 'ops', podLabels: { app: 'op', release: 'r' } },
      scraperPods: { namespace: 'obs', podLabels: { app: 'prom' } },
    };
    const from = (np: Manifest) => np.spec.ingress[0].from.slice(2);
    expect(from(engineNetworkPolicy(desk('d1'), ctx))).toEqual([
      { podSelector: { matchLabels: { app: 'op', release: 'r' } }, namespaceSelector: ns('ops') },
      { podSelector: { matchLabels: { app: 'prom' } }, namespaceSelector: ns('obs') },
    ]);
    const own = desk('d1', { monitoring: { scraper: { namespace: 'mine', podLabels: { app: 'vm' } } } });
    expect(from(engineNetworkPolicy(own, ctx))[1]).toEqual({
      podSelector: { matchLabels: { app: 'vm' } },
      namespaceSelector: ns('mine'),
    });
  });

  it('lets a simulated desk reach DNS and the API server (its Lease) only', () => {
    const np: Manifest = engineNetworkPolicy(desk('d1'), CTX);
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.egress.map(ports)).toEqual([
      ['UDP/53', 'TCP/53'],
      ['TCP/443', 'TCP/6443'],
    ]);
    expect(np.spec.egress[0].to).toBeUndefined();
    expect(np.spec.egress[1].to).toEqual([{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }]);
    // Where the operator says where the API server is, only there.
    const pinned: Manifest = engineNetworkPolicy(desk('d1'), {
      ...CTX,
      apiServer: { cidrs: ['10.0.0.5/32'], ports: [6443] },
    });
    expect(pinned.spec.egress[1]).toEqual({
      to: [{ ipBlock: { cidr: '10.0.0.5/32' } }],
      ports: [{ protocol: 'TCP', port: 6443 }],
    });
  });

  it('adds the exchange (its CIDRs, else anywhere), PostgreSQL and S3 only when the spec uses them', () => {
    const live = desk('d1', {
      market: { source: 'binance_ws' },
      execution: { mode: 'binance_testnet_spot', credentialsSecretRef: { name: 'c' } },
    });
    const [, , exchange] = (engineNetworkPolicy(live, CTX) as Manifest).spec.egress;
    expect(ports(exchange)).toEqual(['TCP/443', 'TCP/9443']);
    expect(exchange.to).toEqual([{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }]);
    const pinned = desk('d1', {
      market: { source: 'binance_ws' },
      execution: {
        mode: 'binance_testnet_spot',
        credentialsSecretRef: { name: 'c' },
        exchangeCidrs: ['203.0.113.0/24'],
      },
    });
    expect((engineNetworkPolicy(pinned, CTX) as Manifest).spec.egress[2].to).toEqual([
      { ipBlock: { cidr: '203.0.113.0/24' } },
    ]);
    const shipping = desk('d1', {
      wal: { postgres: { secretRef: { name: 'pg' } } },
      backup: { destination: { s3: { bucket: 'b', endpoint: 'http://minio.storage:9000' } } },
      restore: { fromBackup: { source: 's3://b/p' } },
    });
    expect((engineNetworkPolicy(shipping, CTX) as Manifest).spec.egress.map(ports)).toEqual([
      ['UDP/53', 'TCP/53'],
      ['TCP/443', 'TCP/6443'],
      ['TCP/5432'],
      ['TCP/9000'],
    ]);
  });
});

describe('backupNetworkPolicy', () => {
  it('lets backup jobs reach DNS, their engines and the bucket, and nothing reach them', () => {
    const np: Manifest = backupNetworkPolicy(
      desk('d1', { backup: { destination: { s3: { bucket: 'b' } } } }),
    );
    expect(np.metadata.name).toBe('d1-wal-backup');
    expect(np.spec.ingress).toEqual([]);
    expect(np.spec.egress.map(ports)).toEqual([['UDP/53', 'TCP/53'], ['TCP/8080'], ['TCP/443']]);
    expect(np.spec.egress[1].to[0].podSelector.matchLabels['app.kubernetes.io/component']).toBe('engine');
    expect((backupNetworkPolicy(desk('d1')) as Manifest).spec.egress).toHaveLength(2);
  });

  it('refuses what only looks like a CIDR, naming the field', () => {
    const bad = desk('d1', {
      execution: {
        mode: 'binance_testnet_spot',
        credentialsSecretRef: { name: 'c' },
        exchangeCidrs: ['10.0.0.0/8', '999.1.1.1/8'],
      },
    });
    expect(() => engineNetworkPolicy(bad, CTX)).toThrow(
      'spec.execution.exchangeCidrs[1]: "999.1.1.1/8" is not a CIDR',
    );
    for (const c of ['10.0.0.0/33', '::/129', '10.0.0.0', '10.0.0.0/8/1'])
      expect(() => checkCidr('f', c)).toThrow(/not a CIDR/);
    for (const c of ['0.0.0.0/0', '2001:db8::/32', '203.0.113.7/32']) expect(checkCidr('f', c)).toBe(c);
  });

  it('knows the port of an S3 endpoint', () => {
    expect([s3Port(undefined), s3Port('http://m:9000'), s3Port('http://m'), s3Port('https://s3.x')]).toEqual([
      443, 9000, 80, 443,
    ]);
  });
});
