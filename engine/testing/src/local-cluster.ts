// The project's local cluster (hack/cluster.sh) as used by npm test, npm start and the e2e suite.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const CLUSTER_SH = join(ROOT, 'hack', 'cluster.sh');

export type NodeMode = 'kwok' | 'real' | 'auto';

export interface LocalCluster {
  name: string;
  kubeconfig: string;
  /** What runs pods: kwok fake nodes, or a real node (hack/node.sh). */
  mode: 'kwok' | 'real';
  bin: string;
  down(): void;
  /**
   * down() without blocking the event loop: for test teardowns, where a blocked loop keeps the
   * runner from seeing its workers exit (vitest then reports a worker that would not terminate).
   */
  stop(): Promise<void>;
}

const clusterEnv = (name: string, node: NodeMode = 'kwok') => ({
  ...process.env,
  VELOZ_CLUSTER_NAME: name,
  VELOZ_CLUSTER_NODE: node,
});

function run(args: string[], name: string, inherit: boolean, node: NodeMode = 'kwok'): string {
  const res = spawnSync('bash', [CLUSTER_SH, ...args], {
    env: clusterEnv(name, node),
    encoding: 'utf8',
    stdio: inherit ? ['ignore', 'pipe', 'inherit'] : ['ignore', 'pipe', 'pipe'],
  });
  if (res.status !== 0) {
    throw new Error(
      `hack/cluster.sh ${args.join(' ')} failed (exit ${res.status}).${inherit ? '' : `\n${res.stderr}`}`,
    );
  }
  return res.stdout.trim();
}

/** Builds the pinned binaries if needed (minutes, once) and starts the cluster `name`. */
export function startLocalCluster(name: string, node: NodeMode = 'kwok'): LocalCluster {
  run(['up'], name, true, node);
  const mode = run(['mode'], name, false);
  return {
    name,
    mode: mode === 'real' ? 'real' : 'kwok',
    kubeconfig: run(['kubeconfig'], name, false),
    bin: run(['bin'], name, false),
    down: () => void run(['down'], name, true),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        const child = spawn('bash', [CLUSTER_SH, 'down'], {
          env: clusterEnv(name),
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        child.on('error', reject);
        child.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`hack/cluster.sh down failed (exit ${code}).`)),
        );
      }),
  };
}

export function restartLocalCluster(name: string): void {
  run(['restart'], name, true);
}
