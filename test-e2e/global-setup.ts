// The e2e suite runs against $KUBECONFIG; with none it starts the local cluster and stops it at
// the end. Either way it installs the CRDs with server-side apply first.
import type { TestProject } from 'vitest/node';
import { KubeClient } from '@veloz/operator/kube/client';
import { startLocalCluster, type LocalCluster } from '@veloz/testing/local-cluster';
import { installCrds } from '@veloz/testing/crds';
import { parseQuantity } from '@veloz/api/crd/quantity';
import { NODE } from './support/cluster.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    /** Name of the local cluster the suite may restart, or '' for an external cluster. */
    localCluster: string;
    /** The desks of the samples request little CPU and memory (support/samples.ts). */
    smallDesks: boolean;
  }
}

interface Node {
  metadata: { name: string };
  spec?: { unschedulable?: boolean; taints?: Array<{ effect: string }> };
  status?: { allocatable?: { cpu?: string } };
}
// The largest desk of the suite (3 pairs of a 1-CPU engine and a 500m gateway, and its backup
// job) with room for a rollout's surge.
const SUITE_CPUS = 8;

/**
 * Whether the desks must request less than their defaults to fit: on a kind cluster of this
 * 2-core machine every node offers the host's 2 CPUs, and 3 pairs at the default requests (4.5
 * CPUs) leave an engine Pending for "Insufficient cpu". kwok's fake nodes offer plenty.
 */
async function smallDesks(client: KubeClient): Promise<boolean> {
  const nodes = (await client.list<Node>(NODE)).items.filter(
    (n) => !n.spec?.unschedulable && !(n.spec?.taints ?? []).some((t) => t.effect !== 'PreferNoSchedule'),
  );
  const cpu = nodes.reduce((sum, n) => sum + parseQuantity(n.status?.allocatable?.cpu ?? 0), 0);
  if (cpu >= SUITE_CPUS) return false;
  console.warn(
    `e2e: the schedulable nodes (${nodes.map((n) => n.metadata.name).join(', ')}) offer ${cpu} CPUs, ` +
      `less than the ${SUITE_CPUS} the suite's desks request at their defaults: ` +
      "the samples' engines and gateways request 100m CPU each instead (test-e2e/support/samples.ts)",
  );
  return true;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let cluster: LocalCluster | undefined;
  let kubeconfig = process.env['KUBECONFIG'];
  let localCluster = process.env['VELOZ_E2E_CLUSTER'] ?? '';
  if (!kubeconfig) {
    cluster = startLocalCluster('veloz-e2e');
    kubeconfig = cluster.kubeconfig;
    localCluster = cluster.name;
  }
  const client = KubeClient.load(kubeconfig);
  let small: boolean;
  try {
    await installCrds(client);
    small = await smallDesks(client);
  } finally {
    client.close();
  }
  project.provide('kubeconfig', kubeconfig);
  project.provide('localCluster', localCluster);
  project.provide('smallDesks', small);
  return async () => {
    await cluster?.stop();
  };
}
