// The operator as users run it: installed in the cluster with the Helm chart and the locally
// built image (present on the node, so IfNotPresent never pulls).
import { join } from 'node:path';
import { CHART, run as runTool } from '@veloz/testing/chart-helm';

export const OPERATOR_NAMESPACE = 'veloz-system';
export const OPERATOR_RELEASE = 'veloz-operator';

function run(bin: string, args: string[]): string {
  const res = runTool(bin, args);
  if (res.code !== 0) {
    throw new Error(`${bin.split('/').pop()} ${args.join(' ')} failed (exit ${res.code}):\n${res.stderr}`);
  }
  return res.stdout;
}

/** `extra`: more helm flags, such as `--set` of a value one test needs. */
export function installOperatorChart(bin: string, kubeconfig: string, extra: string[] = []): void {
  run(join(bin, 'helm'), [
    'upgrade',
    '--install',
    OPERATOR_RELEASE,
    CHART,
    '--kubeconfig',
    kubeconfig,
    '--namespace',
    OPERATOR_NAMESPACE,
    '--create-namespace',
    // The suite installed the CRDs already (server-side, as the kwok suite does).
    '--set',
    'crds.install=false',
    // One replica and a small request: the node has two cores for everything.
    '--set',
    'replicaCount=1',
    '--set',
    'resources.requests.cpu=50m',
    // Engines asked for their WAL status every 5 s instead of 30, so the suite sees it soon.
    '--set',
    'walStatusIntervalSeconds=5',
    ...extra,
    '--wait',
    '--timeout',
    '300s',
  ]);
}

/** Scales the in-cluster operator (0 hands the cluster to an operator run outside). */
export function scaleOperator(bin: string, kubeconfig: string, replicas: number): void {
  run(join(bin, 'kubectl'), [
    '--kubeconfig',
    kubeconfig,
    '-n',
    OPERATOR_NAMESPACE,
    'scale',
    'deployment',
    '-l',
    'app.kubernetes.io/name=veloz-operator',
    `--replicas=${replicas}`,
  ]);
  run(join(bin, 'kubectl'), [
    '--kubeconfig',
    kubeconfig,
    '-n',
    OPERATOR_NAMESPACE,
    'rollout',
    'status',
    'deployment',
    '-l',
    'app.kubernetes.io/name=veloz-operator',
    '--timeout=180s',
  ]);
}
