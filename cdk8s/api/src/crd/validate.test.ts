import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { INVALID_CASES, VALID_UPDATES } from '@veloz/testing/crd-cases';
import type { SchemaCase } from '@veloz/testing/crd-cases';
import { CRDS, VELOZ_DEPLOYMENT, VELOZ_STRATEGY } from './crds.ts';
import { applyDefaults } from './defaults.ts';
import type { Schema } from './schema.ts';
import { walk } from './schema.ts';
import { defaultErrors, validate } from './validate.ts';

const SAMPLES = join(import.meta.dirname, '..', '..', '..', '..', 'crds', 'samples');
const defOf = (kind: string) => (kind === 'VelozDeployment' ? VELOZ_DEPLOYMENT : VELOZ_STRATEGY);

function check(c: SchemaCase) {
  const def = defOf(c.kind);
  const old = c.oldObject ? applyDefaults(def.schema, c.oldObject) : undefined;
  if (old) expect(validate(def, old), `${c.name}: the old object must be valid`).toEqual([]);
  return validate(def, applyDefaults(def.schema, c.object), old);
}

describe('samples', () => {
  const docs = readdirSync(SAMPLES)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(SAMPLES, f), 'utf8')).map((d) => {
        const o = d.toJS() as { kind: string; metadata: { name: string } };
        return [`${f}: ${o.kind} ${o.metadata.name}`, o] as const;
      }),
    );

  it('covers both kinds', () => {
    expect(new Set(docs.map(([, o]) => o.kind))).toEqual(new Set(['VelozDeployment', 'VelozStrategy']));
  });

  it.each(docs)('%s is valid', (_, o) => {
    const def = defOf(o.kind);
    expect(validate(def, applyDefaults(def.schema, o))).toEqual([]);
  });
});

describe('invalid custom resources are rejected', () => {
  it('has at least 15 cases', () => expect(INVALID_CASES.length).toBeGreaterThanOrEqual(15));

  it.each(INVALID_CASES.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const errors = check(c);
    expect(errors.length, JSON.stringify(errors)).toBeGreaterThan(0);
    const hit = errors.find((e) => e.path === c.expect.field);
    expect(hit, `expected an error on ${c.expect.field}, got ${JSON.stringify(errors)}`).toBeDefined();
    if (c.expect.message) expect(hit!.message).toContain(c.expect.message);
  });
});

describe('allowed updates', () => {
  it.each(VALID_UPDATES.map((c) => [c.name, c] as const))('%s', (_, c) => {
    expect(check(c)).toEqual([]);
  });
});

describe('defaults', () => {
  it('fill an empty spec from the seeds', () => {
    const d = applyDefaults(VELOZ_DEPLOYMENT.schema, { metadata: { name: 'x' } }) as unknown as {
      spec: Record<string, Record<string, unknown>>;
    };
    expect(d.spec['pairs']).toBe(1);
    expect(d.spec['gateway']!['resources']).toEqual({
      requests: { cpu: '500m', memory: '512Mi' },
      limits: { cpu: '1', memory: '1Gi' },
    });
    expect((d.spec['engine']!['resources'] as { requests: unknown }).requests).toEqual({
      cpu: '1',
      memory: '1Gi',
    });
    expect(d.spec['backup']).toMatchObject({
      schedule: '*/5 * * * *',
      retentionDays: 7,
      destination: { volume: { size: '5Gi' } },
    });
    expect(d.spec['wal']).toMatchObject({
      maxSizeBytes: 67108864,
      maxFiles: 10,
      sync: true,
      checkpointInterval: 1000,
    });
    expect(validate(VELOZ_DEPLOYMENT, d)).toEqual([]);
  });

  it('are idempotent and do not touch given values', () => {
    const once = applyDefaults(VELOZ_DEPLOYMENT.schema, { metadata: { name: 'x' }, spec: { pairs: 3 } });
    expect(applyDefaults(VELOZ_DEPLOYMENT.schema, once)).toEqual(once);
    expect((once as { spec: { pairs: number } }).spec.pairs).toBe(3);
  });
});

describe('schema hygiene', () => {
  const nodes = CRDS.flatMap((def) => {
    const out: Array<[string, Schema]> = [];
    walk(def.schema, (path, s) => out.push([`${def.kind}${path}`, s]));
    return out;
  });

  it.each(nodes.filter(([p]) => !p.endsWith('.metadata')))(
    '%s has a description or is a list item',
    (path, s) => {
      if (path.endsWith('[]') || path.endsWith('.*') || path.includes('.anyOf')) return;
      expect(s.description, path).toBeTruthy();
    },
  );

  it.each(CRDS.map((d) => [d.kind, d] as const))(
    '%s: every default satisfies the rules of its field',
    (_, def) => {
      expect(defaultErrors(def)).toEqual([]);
    },
  );

  // The API server estimates the worst-case cost of every rule from these bounds and rejects a
  // CRD whose rules could exceed the budget: everything a rule can reach must be bounded.
  it('bounds every string, list and map a CEL rule can reach', () => {
    const unbounded: string[] = [];
    for (const [path, s] of nodes.filter(([, s]) => s['x-kubernetes-validations'])) {
      walk(s, (sub, t) => {
        if (t.type === 'string' && t.maxLength === undefined && !t.enum) unbounded.push(path + sub);
        if (t.type === 'array' && t.maxItems === undefined) unbounded.push(path + sub);
        if (typeof t.additionalProperties === 'object' && t.maxProperties === undefined)
          unbounded.push(path + sub);
      });
    }
    expect(unbounded).toEqual([]);
  });
});
