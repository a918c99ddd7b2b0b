// The e2e suite runs against $KUBECONFIG; with none it starts the local cluster and stops it at
// the end. Either way it installs the CRDs with server-side apply first.
import type { TestProject } from 'vitest/node';
import { KubeClient } from '@veloz/operator/kube/client';
import { startLocalCluster, type LocalCluster } from '@veloz/testing/local-cluster';
import { installCrds } from '@veloz/testing/crds';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    /** Name of the local cluster the suite may restart, or '' for an external cluster. */
    localCluster: string;
  }
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
  try {
    await installCrds(client);
  } finally {
    client.close();
  }
  project.provide('kubeconfig', kubeconfig);
  project.provide('localCluster', localCluster);
  return async () => {
    await cluster?.stop();
  };
}
