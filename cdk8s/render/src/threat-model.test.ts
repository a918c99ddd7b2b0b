// docs/security.md's threat model against what is rendered: the peers NetworkPolicy X-engine
// admits and the token each one's pods mount, the engines' and backup jobs' ways out, and the
// scopes each token opens. A policy or a document changed alone fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPENS } from '@veloz/api/http/credentials';
import { desk, type Manifest } from '@veloz/testing/desk';
import { render, type KubernetesObject } from './render.ts';

const DOC = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'security.md'), 'utf8');
const CTX = {
  defaultImage: 'veloz:1',
  apiKey: 'k',
  engineTokens: { trading: 't', admin: 'a', backup: 'b' },
  monitoringApiServed: false,
};

/** The rows of the table that follows `intro` in the document, as cells, header left out. */
function table(intro: string): string[][] {
  const at = DOC.indexOf(intro);
  if (at < 0) throw new Error(`docs/security.md has no "${intro}"`);
  const lines = DOC.slice(at).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const l of lines.slice(start + 2)) {
    if (!l.startsWith('|')) break;
    rows.push(
      l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  }
  return rows;
}
const id = (cell: string) => /^`([^`]+)`/.exec(cell)?.[1] ?? cell;

const find = (objs: KubernetesObject[], kind: string, name: string): Manifest =>
  objs.find((o) => o.kind === kind && o.metadata.name === name);

/** Every feature on: Binance, shipping to PostgreSQL, backups to and a restore from S3. */
const everything = desk('d1', {
  market: { source: 'binance_ws' },
  execution: { mode: 'binance_testnet_spot', credentialsSecretRef: { name: 'c' } },
  wal: { postgres: { secretRef: { name: 'pg' } } },
  backup: { destination: { s3: { bucket: 'b' } } },
  restore: { fromBackup: { source: 's3://b/p' } },
});

/** What an ingress peer of X-engine is, by how it is selected. */
function peerOf(p: Manifest): string {
  const labels = p.podSelector.matchLabels;
  if (!p.namespaceSelector) return labels['app.kubernetes.io/component'];
  expect(Object.keys(p.namespaceSelector.matchLabels)).toEqual(['kubernetes.io/metadata.name']);
  return labels['app.kubernetes.io/name'] === 'veloz-operator' ? 'operator' : 'scraper';
}

/** What an egress rule of a policy reaches, by its ports. */
function destinationOf(rule: Manifest): string {
  const ports = rule.ports.map((p: Manifest) => `${p.protocol} ${p.port}`).join(', ');
  if (ports === 'UDP 53, TCP 53') return 'dns';
  if (ports === 'TCP 443, TCP 9443') return 'exchange';
  if (ports === 'TCP 443, TCP 6443') return 'api-server';
  if (ports === 'TCP 5432') return 'postgres';
  if (ports === 'TCP 8080') return 'engine';
  if (ports === 'TCP 443') return 's3';
  throw new Error(`an egress rule the threat model does not name: ${ports}`);
}

const tokenKeys = (pod: Manifest): string[] =>
  pod.volumes.find((v: Manifest) => v.name === 'engine-token')?.secret.items.map((i: Manifest) => i.key) ??
  [];

describe('docs/security.md threat model', () => {
  const objs = render(everything, CTX);
  const engine = find(objs, 'NetworkPolicy', 'd1-engine');

  it('names exactly the peers X-engine admits, and the token each one holds', () => {
    const rows = table('Into an engine (TCP 8080)');
    expect(rows.map((r) => id(r[0]!))).toEqual(engine.spec.ingress[0].from.map(peerOf));
    expect(engine.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 8080 }]);
    const scope = Object.fromEntries(rows.map((r) => [id(r[0]!), id(r[2]!)]));
    const held = {
      gateway: tokenKeys(find(objs, 'StatefulSet', 'd1-gateway').spec.template.spec),
      backup: tokenKeys(find(objs, 'CronJob', 'd1-wal-backup').spec.jobTemplate.spec.template.spec),
    };
    expect(held).toEqual({ gateway: [scope['gateway']], backup: [scope['backup']] });
    expect(scope['operator']).toBe('admin');
    expect(scope['scraper']).toMatch(/^none/);
    expect(tokenKeys(find(objs, 'StatefulSet', 'd1-engine').spec.template.spec)).toEqual(Object.keys(OPENS));
  });

  it('names exactly the engines’ ways out, each only when the spec uses it', () => {
    const rows = table('Out of an engine');
    expect(engine.spec.egress.map(destinationOf)).toEqual(rows.map((r) => id(r[0]!)));
    const sim = find(render(desk('d1'), CTX), 'NetworkPolicy', 'd1-engine');
    expect(sim.spec.egress.map(destinationOf)).toEqual(['dns', 'api-server']);
  });

  it('names exactly the backup jobs’ ways out, and nothing comes in', () => {
    const np = find(objs, 'NetworkPolicy', 'd1-wal-backup');
    expect(np.spec.ingress).toEqual([]);
    expect(np.spec.egress.map(destinationOf)).toEqual(table('Out of a backup job').map((r) => id(r[0]!)));
  });

  it('says what each token scope opens as the engine checks it', () => {
    const rows = table('[engine.md](engine.md#credentials)):');
    expect(rows.map((r) => r[0])).toEqual(Object.keys(OPENS));
    // admin also opens what trading does; backup alone opens the WAL snapshot.
    expect(OPENS.admin).toContain('trading');
    expect(rows.find((r) => r[0] === 'admin')?.[2]).toMatch(/what trading opens/);
    expect(rows.find((r) => r[0] === 'backup')?.[2]).toMatch(/only$/);
  });
});
