// A local cluster of a test file's own (hack/cluster.sh with its own name and state directory, kwok
// nodes), driven with the pinned kubectl: what the integration tests of the operator and of the
// engine's Lease share. Several files may each run one at the same time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, run, toolsDir, type RunResult } from './chart-helm.ts';

export { clusterBinariesBuilt } from './chart-helm.ts';
export { until } from './until.ts';

export class PrivateCluster {
  private readonly state: string;
  private readonly env: Record<string, string>;
  private readonly tools = toolsDir() ?? '';
  kubeconfig = '';

  /** `prefix` names the cluster (with this process's id) and its state directory. */
  constructor(prefix: string) {
    this.state = mkdtempSync(join(tmpdir(), `veloz-${prefix}-`));
    this.env = { VELOZ_CLUSTER_NAME: `${prefix}-${process.pid}`, VELOZ_CLUSTER_STATE: this.state };
  }

  /** Starts the cluster; with `crds`, installs the CRDs and waits until they are served. */
  up(opts: { crds?: boolean } = {}): void {
    const up = run(join(ROOT, 'hack', 'cluster.sh'), ['up'], this.env);
    if (up.code !== 0) throw new Error(`hack/cluster.sh up failed:\n${up.stderr}`);
    this.kubeconfig = run(join(ROOT, 'hack', 'cluster.sh'), ['kubeconfig'], this.env).stdout.trim();
    if (!opts.crds) return;
    this.ok(
      this.kubectl([
        'apply',
        '--server-side',
        '-f',
        join(ROOT, 'crds', 'veloz.io_velozdeployments.yaml'),
        '-f',
        join(ROOT, 'crds', 'veloz.io_velozstrategies.yaml'),
      ]),
    );
    this.ok(
      this.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/velozdeployments.veloz.io']),
    );
  }

  /** Stops the cluster and removes its state. */
  down(): void {
    run(join(ROOT, 'hack', 'cluster.sh'), ['down'], this.env);
    rmSync(this.state, { recursive: true, force: true });
  }

  kubectl(args: string[], input?: string): RunResult {
    return run(join(this.tools, 'kubectl'), args, { KUBECONFIG: this.kubeconfig }, input);
  }

  /** The output of a command that must succeed; otherwise throws with what it printed. */
  ok(r: RunResult): string {
    if (r.code !== 0) throw new Error(`kubectl failed (exit ${r.code}):\n${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** `kubectl apply` of `obj` (in namespace `ns` when given); it must succeed. */
  apply(obj: object, ns?: string): void {
    this.ok(this.kubectl([...(ns ? ['-n', ns] : []), 'apply', '-f', '-'], JSON.stringify(obj)));
  }

  /** `kubectl -n NS get WHAT... -o json`, parsed; it must succeed. */
  json<T>(ns: string, ...what: string[]): T {
    return JSON.parse(this.ok(this.kubectl(['-n', ns, 'get', ...what, '-o', 'json']))) as T;
  }
}
