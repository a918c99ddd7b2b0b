// Manifests for the VelozDeployments of a YAML file, for review or `kubectl apply` without the
// operator. Each CR is defaulted and validated like the API server would before it is rendered.
import { parseAllDocuments, stringify } from 'yaml';
import { VELOZ_DEPLOYMENT, VELOZ_STRATEGY } from '@veloz/api/crd/crds';
import { applyDefaults } from '@veloz/api/crd/defaults';
import { validate } from '@veloz/api/crd/validate';
import type { VelozDeployment } from '@veloz/api/generated/types';
import { render } from './render.ts';
import type { KubernetesObject } from './render.ts';

export const PLACEHOLDER_API_KEY = 'REPLACE-ME-placeholder-api-key-not-secret';
/** The engine tokens synth writes: placeholders too, never secrets (the operator generates real ones). */
export const PLACEHOLDER_ENGINE_TOKENS = {
  trading: 'REPLACE-ME-placeholder-trading-token',
  admin: 'REPLACE-ME-placeholder-admin-token',
  backup: 'REPLACE-ME-placeholder-backup-token',
};

export interface SynthOptions {
  apiKey?: string;
  monitoringApiServed: boolean;
  /** Image when spec.image is absent (synth-cli: @veloz/api/image's DEFAULT_IMAGE, as the operator). */
  image: string;
  namespace?: string;
  source: string;
}

export class SynthError extends Error {}

export function toYaml(objects: readonly KubernetesObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

export function synth(text: string, opts: SynthOptions): string {
  const docs = parseAllDocuments(text);
  const out: KubernetesObject[] = [];
  const notes: string[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new SynthError(`${opts.source}: ${doc.errors[0]!.message}`);
    const raw = doc.toJS() as { kind?: string; metadata?: { name?: string; namespace?: string } } | null;
    if (!raw) continue;
    const name = raw.metadata?.name ?? '(no name)';
    const def =
      raw.kind === 'VelozDeployment'
        ? VELOZ_DEPLOYMENT
        : raw.kind === 'VelozStrategy'
          ? VELOZ_STRATEGY
          : undefined;
    if (!def) {
      notes.push(`# skipped ${raw.kind ?? 'a document without kind'} ${name}: not a VeloZ resource`);
      continue;
    }
    const defaulted = applyDefaults(def.schema, raw);
    const errors = validate(def, defaulted);
    if (errors.length > 0) {
      throw new SynthError(
        `${opts.source}: ${def.kind} ${name} is invalid:\n${errors.map((e) => `  ${e.path}: ${e.message}`).join('\n')}`,
      );
    }
    if (def === VELOZ_STRATEGY) {
      notes.push(
        `# skipped VelozStrategy ${name}: strategies are pushed into running engines by the operator`,
      );
      continue;
    }
    const cr = defaulted as VelozDeployment;
    if (opts.namespace) cr.metadata.namespace = opts.namespace;
    out.push(
      ...render(cr, {
        defaultImage: opts.image,
        apiKey: opts.apiKey ?? PLACEHOLDER_API_KEY,
        engineTokens: PLACEHOLDER_ENGINE_TOKENS,
        monitoringApiServed: opts.monitoringApiServed,
      }),
    );
  }
  const header = [
    `# Rendered by \`npm run synth\` from ${opts.source}. Without the operator: no owner references, no status.`,
    opts.monitoringApiServed
      ? '# monitoring.coreos.com/v1 (Prometheus Operator) is assumed served; pass --no-monitoring if it is not.'
      : '# ServiceMonitor and PrometheusRule left out (--no-monitoring).',
    ...(opts.apiKey === undefined
      ? [`# The API key Secret holds a PLACEHOLDER (${PLACEHOLDER_API_KEY}): pass --api-key or replace it.`]
      : []),
    '# The engine token Secrets hold PLACEHOLDERS: replace each with a random value (openssl rand -hex 32).',
    ...notes,
  ];
  return `${header.join('\n')}\n${toYaml(out)}`;
}
