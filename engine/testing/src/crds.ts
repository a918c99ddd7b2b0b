// Installs the project's CRDs with server-side apply and waits until they are served.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeClient } from '@veloz/operator/kube/client';
import { RESOURCES, type KubernetesObject } from '@veloz/operator/kube/resources';

const ROOT = join(import.meta.dirname, '..', '..', '..');

export async function readManifests(path: string): Promise<KubernetesObject[]> {
  return parseAllDocuments(await readFile(path, 'utf8'))
    .map((d) => d.toJS() as KubernetesObject | null)
    .filter((d): d is KubernetesObject => !!d);
}

/** Server-side applies a CRD and waits until it is Established. */
export async function applyCrd(client: KubeClient, crd: KubernetesObject): Promise<void> {
  await client.apply(crd);
  const name = crd.metadata?.name ?? '';
  for (let i = 0; ; i++) {
    const got = await client.get<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(
      RESOURCES.crd,
      undefined,
      name,
    );
    if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    if (i > 200) throw new Error(`CRD ${name} was not established`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function installCrds(client: KubeClient): Promise<void> {
  for (const file of ['veloz.io_velozdeployments.yaml', 'veloz.io_velozstrategies.yaml']) {
    for (const crd of await readManifests(join(ROOT, 'crds', file))) await applyCrd(client, crd);
  }
}
