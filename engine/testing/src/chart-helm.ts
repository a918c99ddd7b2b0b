// Running the pinned helm and kubectl from hack/ (built by hack/build-k8s.sh) for the chart tests.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const CHART = join(ROOT, 'charts', 'veloz-operator');

/** The directory with helm and kubectl, or undefined when hack/build-k8s.sh has not built them. */
export function toolsDir(): string | undefined {
  const res = spawnSync(join(ROOT, 'hack', 'cluster.sh'), ['bin'], { encoding: 'utf8' });
  const dir = res.stdout.trim();
  return res.status === 0 && dir && existsSync(join(dir, 'helm')) ? dir : undefined;
}

/** Whether every binary of the local cluster is built (hack/build-k8s.sh --check). */
export function clusterBinariesBuilt(): boolean {
  return spawnSync(join(ROOT, 'hack', 'build-k8s.sh'), ['--check'], { stdio: 'ignore' }).status === 0;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(
  bin: string,
  args: string[],
  env: Record<string, string> = {},
  input?: string,
): RunResult {
  const res = spawnSync(bin, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    input,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: res.status ?? 1, stdout: res.stdout, stderr: res.stderr };
}

/** `helm template` of the chart with the given --set/--set-json style flags. */
export function helmTemplate(
  tools: string,
  flags: string[],
  release = 'veloz-operator',
  namespace = 'veloz-system',
): string {
  return execFileSync(join(tools, 'helm'), ['template', release, CHART, '--namespace', namespace, ...flags], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** The values sets the golden tests render; the integration test applies the same ones. */
export const VALUE_SETS: Record<string, string[]> = {
  default: [],
  namespaced: ['--set', 'watchNamespaces={desk-a,desk-b}'],
  monitoring: [
    '--set',
    'serviceMonitor.enabled=true',
    '--set',
    'serviceMonitor.labels.release=kube-prometheus-stack',
    '--set',
    'prometheusRule.enabled=true',
    '--set',
    'dashboards.enabled=true',
  ],
};
