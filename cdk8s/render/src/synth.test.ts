import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { PLACEHOLDER_API_KEY, SynthError, synth } from './synth.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const sample = (f: string) => readFileSync(join(ROOT, 'crds', 'samples', f), 'utf8');
const opts = { monitoringApiServed: true, image: 'registry.example/veloz:1', source: 'test.yaml' };
const kinds = (yaml: string) => parseAllDocuments(yaml).map((d) => (d.toJS() as { kind: string }).kind);

describe('synth', () => {
  it('renders the deployments of a file and says what it assumed', () => {
    const out = synth(sample('quickstart.yaml'), opts);
    expect(out).toContain('monitoring.coreos.com/v1 (Prometheus Operator) is assumed served');
    expect(out).toContain(`PLACEHOLDER (${PLACEHOLDER_API_KEY})`);
    expect(out).toContain('skipped VelozStrategy quickstart-grid');
    expect(kinds(out)).toContain('StatefulSet');
    expect(kinds(out)).toContain('ServiceMonitor');
  });

  it('takes the API key and leaves monitoring out when asked', () => {
    const out = synth(sample('quickstart.yaml'), { ...opts, apiKey: 'k3y', monitoringApiServed: false });
    expect(out).not.toContain(PLACEHOLDER_API_KEY);
    expect(out).toContain(Buffer.from('k3y').toString('base64'));
    expect(kinds(out)).not.toContain('ServiceMonitor');
    expect(kinds(out)).not.toContain('PrometheusRule');
  });

  it('rejects an invalid CR with the schema messages', () => {
    const bad =
      'apiVersion: veloz.io/v1alpha1\nkind: VelozDeployment\nmetadata: {name: x}\nspec:\n  execution: {mode: binance_spot}\n';
    expect(() => synth(bad, opts)).toThrow(SynthError);
    expect(() => synth(bad, opts)).toThrow(/credentialsSecretRef is required/);
  });

  it('runs as npm run synth', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        'cdk8s/render/src/synth-cli.ts',
        'crds/samples/hibernated.yaml',
        '--api-key',
        'abc',
        '--namespace',
        'ns1',
      ],
      { cwd: ROOT },
    );
    const docs = parseAllDocuments(stdout).map((d) => d.toJS() as { metadata: { namespace: string } });
    expect(docs.length).toBeGreaterThan(5);
    expect(docs.every((d) => d.metadata.namespace === 'ns1')).toBe(true);
  });
});
