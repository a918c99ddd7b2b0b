// The full-system suite runs real pods: the local cluster with a real node (hack/node.sh), the
// `veloz` image built here without Docker, and the operator installed in the cluster with its Helm
// chart. $VELOZ_SYSTEM_KUBECONFIG points it at another cluster whose nodes already have the image.
// Where no real node can run (not root, no overlayfs, ...) every case is skipped with the reason.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { KubeClient } from '@veloz/operator/kube/client';
import { toolsDir } from '@veloz/testing/chart-helm';
import { startLocalCluster, type LocalCluster } from '@veloz/testing/local-cluster';
import { installCrds } from '@veloz/testing/crds';
import { installOperatorChart, OPERATOR_NAMESPACE } from './support/operator-chart.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    systemKubeconfig: string;
    /** Why the suite cannot run here, or '' when it runs. */
    systemSkip: string;
    /** Directory with kubectl and helm. */
    systemBin: string;
    /** The local cluster with the real node (hack/node.sh), or '' for $VELOZ_SYSTEM_KUBECONFIG. */
    systemCluster: string;
  }
}

const ROOT = join(import.meta.dirname, '..', '..');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let cluster: LocalCluster | undefined;
  let kubeconfig = process.env['VELOZ_SYSTEM_KUBECONFIG'] ?? '';
  // kubectl and helm: the pinned ones when built, else from PATH.
  let bin = toolsDir() ?? '';
  if (!kubeconfig) {
    const check = spawnSync(join(ROOT, 'hack', 'node.sh'), ['check'], { encoding: 'utf8' });
    if (check.status !== 0) {
      const reason = `no real node can run here: ${check.stderr.trim().replace(/\s*\n\s*/g, ' ')}`;
      console.warn(`system suite skipped: ${reason}`);
      project.provide('systemSkip', reason);
      project.provide('systemKubeconfig', '');
      project.provide('systemBin', bin);
      project.provide('systemCluster', '');
      return async () => {};
    }
    // Also installs the node's packages and builds its binaries and the veloz image (cached).
    cluster = startLocalCluster('veloz-system', 'real');
    kubeconfig = cluster.kubeconfig;
    bin = cluster.bin;
  }
  try {
    const client = KubeClient.load(kubeconfig);
    try {
      await installCrds(client);
    } finally {
      client.close();
    }
    installOperatorChart(bin, kubeconfig);
  } catch (err) {
    cluster?.down();
    throw err;
  }
  console.log(`system suite: operator installed in ${OPERATOR_NAMESPACE} with the Helm chart`);
  project.provide('systemKubeconfig', kubeconfig);
  project.provide('systemSkip', '');
  project.provide('systemBin', bin);
  project.provide('systemCluster', cluster?.name ?? '');
  return async () => {
    await cluster?.stop();
  };
}
