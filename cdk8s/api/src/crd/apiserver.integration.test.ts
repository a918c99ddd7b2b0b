// The CRDs, the schema cases and every rendered object against a real API server. Opt-in, as it
// installs CRDs: VELOZ_TEST_KUBECONFIG=$(hack/cluster.sh kubeconfig) npm run test:integration
// (kubectl from PATH, or VELOZ_TEST_KUBECTL).
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { render } from '@veloz/render/render';
import { toYaml } from '@veloz/render/synth';
import type { VelozDeployment } from '../generated/types.ts';
import { INVALID_CASES, VALID_UPDATES } from '@veloz/testing/crd-cases';
import type { SchemaCase } from '@veloz/testing/crd-cases';
import { VELOZ_DEPLOYMENT, VELOZ_STRATEGY } from './crds.ts';
import { applyDefaults } from './defaults.ts';

const KUBECONFIG = process.env['VELOZ_TEST_KUBECONFIG'];
const KUBECTL = process.env['VELOZ_TEST_KUBECTL'] ?? 'kubectl';
const ROOT = join(import.meta.dirname, '..', '..', '..', '..');
const NS = `veloz-schema-${process.pid}`;

function kubectl(args: string[], input?: string) {
  const r = spawnSync(KUBECTL, ['--kubeconfig', KUBECONFIG!, ...args], { input, encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stdout, err: r.stderr };
}

const apply = (obj: unknown, ...flags: string[]) =>
  kubectl(
    ['apply', '--server-side', '--field-manager=schema-test', '-n', NS, ...flags, '-f', '-'],
    stringify(obj),
  );

function named(c: SchemaCase, i: number, o: Record<string, unknown>) {
  const meta = o['metadata'] as { name: string };
  return { ...o, metadata: { ...meta, name: `${meta.name}-${i}` } };
}

describe.skipIf(!KUBECONFIG)('against a real API server', () => {
  beforeAll(() => {
    const crds = ['crds/veloz.io_velozdeployments.yaml', 'crds/veloz.io_velozstrategies.yaml'].map((f) =>
      join(ROOT, f),
    );
    const r = kubectl(['apply', '--server-side', '--force-conflicts', ...crds.flatMap((f) => ['-f', f])]);
    expect(r.ok, r.err).toBe(true);
    const w = kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/velozdeployments.veloz.io',
      'crd/velozstrategies.veloz.io',
    ]);
    expect(w.ok, w.err).toBe(true);
    expect(kubectl(['create', 'namespace', NS]).ok).toBe(true);
  });

  afterAll(() => {
    if (KUBECONFIG) kubectl(['delete', 'namespace', NS, '--wait=false']);
  });

  it.each(INVALID_CASES.map((c, i) => [c.name, c, i] as const))('rejects: %s', (_, c, i) => {
    if (c.oldObject) {
      const r = apply(named(c, i, c.oldObject));
      expect(r.ok, r.err).toBe(true);
    }
    const r = apply(named(c, i, c.object), ...(c.oldObject ? [] : ['--dry-run=server']));
    expect(r.ok, `${c.name} was accepted`).toBe(false);
    expect(r.err).toContain(c.expect.field);
    if (c.expect.message) expect(r.err).toContain(c.expect.message);
  });

  it.each(VALID_UPDATES.map((c, i) => [c.name, c, i] as const))('accepts: %s', (_, c, i) => {
    if (c.oldObject) expect(apply(named(c, i + 1000, c.oldObject)).ok).toBe(true);
    const r = apply(named(c, i + 1000, c.object));
    expect(r.ok, r.err).toBe(true);
  });

  const samples = readdirSync(join(ROOT, 'crds', 'samples'))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(ROOT, 'crds', 'samples', f), 'utf8')).map(
        (d) =>
          [
            `${f}: ${(d.toJS() as { metadata: { name: string } }).metadata.name}`,
            d.toJS() as VelozDeployment,
          ] as const,
      ),
    );

  it.each(samples)('stores %s with the same defaults as applyDefaults', (_, o) => {
    const r = apply(o);
    expect(r.ok, r.err).toBe(true);
    const got = kubectl([
      'get',
      '-n',
      NS,
      `${(o.kind ?? '').toLowerCase()}.veloz.io/${o.metadata.name}`,
      '-o',
      'json',
    ]);
    const stored = JSON.parse(got.out) as { spec: unknown };
    const def = o.kind === 'VelozDeployment' ? VELOZ_DEPLOYMENT : VELOZ_STRATEGY;
    expect(stored.spec).toEqual((applyDefaults(def.schema, o) as { spec: unknown }).spec);
  });

  it.each(samples.filter(([, o]) => o.kind === 'VelozDeployment'))(
    'accepts every rendered object of %s',
    (_, o) => {
      const cr = { ...o, metadata: { ...o.metadata, namespace: NS } };
      const yaml = toYaml(
        render(cr, {
          defaultImage: 'registry.example/veloz:0.1.0',
          apiKey: 'k',
          engineTokens: { trading: 't', admin: 'a', backup: 'b' },
          monitoringApiServed: true,
        }),
      );
      const r = kubectl(
        ['apply', '--server-side', '--dry-run=server', '--field-manager=veloz-operator', '-f', '-'],
        yaml,
      );
      expect(r.ok, r.err).toBe(true);
    },
  );
});
