// The e2e suite runs against $KUBECONFIG; with none it starts the local cluster and stops it at
// the end. Either way it installs the CRDs with server-side apply first.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { parseAllDocuments } from 'yaml';
import { KubeClient } from '@veloz/operator/src/kube/client.ts';
import { RESOURCES } from '@veloz/operator/src/kube/resources.ts';
import { startLocalCluster, type LocalCluster } from '../scripts/lib/cluster.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    /** Name of the local cluster the suite may restart, or '' for an external cluster. */
    localCluster: string;
  }
}

const ROOT = join(import.meta.dirname, '..');

export default async function setup(project: TestProject): Promise<() => void> {
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
    for (const file of ['veloz.io_velozdeployments.yaml', 'veloz.io_velozstrategies.yaml']) {
      for (const doc of parseAllDocuments(await readFile(join(ROOT, 'crds', file), 'utf8'))) {
        const crd = doc.toJS() as { metadata: { name: string } };
        await client.apply(crd);
        for (let i = 0; ; i++) {
          const got = await client.get<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(
            RESOURCES.crd,
            undefined,
            crd.metadata.name,
          );
          if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
          if (i > 100) throw new Error(`CRD ${crd.metadata.name} not established`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
  } finally {
    client.close();
  }
  project.provide('kubeconfig', kubeconfig);
  project.provide('localCluster', localCluster);
  return () => cluster?.down();
}
