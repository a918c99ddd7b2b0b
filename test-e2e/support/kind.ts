// kind clusters, recognized from their nodes: the node-level cases freeze them, and the cases that
// change cluster-wide objects run on the one hack/kind-up.sh makes (a throwaway, like the local one).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { KubeClient } from '@veloz/operator/kube/client';
import { NODE } from './cluster.ts';

const KIND_UP = join(import.meta.dirname, '..', '..', 'hack', 'kind-up.sh');
/** The cluster hack/kind-up.sh creates, as its --help says. */
export const OWN_KIND_CLUSTER = process.env['VELOZ_KIND_CLUSTER'] ?? 'veloz-e2e';

export interface KindNode {
  metadata: { name: string };
  spec: { providerID?: string; unschedulable?: boolean; taints?: Array<{ effect: string }> };
}
export interface Kind {
  provider: string;
  cluster: string;
  nodes: KindNode[];
}

/** kind's nodes carry `kind://<provider>/<cluster>/<node>`; else why the cluster is not kind. */
export async function kindCluster(c: KubeClient): Promise<Kind | string> {
  const nodes = (await c.list<KindNode>(NODE)).items;
  const ids = nodes.map((n) => /^kind:\/\/(docker|podman)\/([^/]+)\//.exec(n.spec.providerID ?? ''));
  const first = ids[0];
  if (!first || ids.some((m) => !m)) return 'not a kind cluster (a node has no kind:// provider ID)';
  return { provider: first[1]!, cluster: first[2]!, nodes };
}

/** Why the cluster is not the kind cluster hack/kind-up.sh made, or '' when it is. */
export async function notOwnKindCluster(c: KubeClient): Promise<string> {
  const kind = await kindCluster(c);
  if (typeof kind === 'string') return kind;
  return kind.cluster === OWN_KIND_CLUSTER
    ? ''
    : `kind cluster "${kind.cluster}" is not the one hack/kind-up.sh made ("${OWN_KIND_CLUSTER}")`;
}

/** Freezes or thaws a node's container (hack/kind-up.sh node pause|unpause). */
export function kindNode(kind: Kind, action: 'pause' | 'unpause', node: string): void {
  execFileSync('bash', [KIND_UP, 'node', action, node], {
    env: { ...process.env, VELOZ_KIND_PROVIDER: kind.provider, VELOZ_KIND_CLUSTER: kind.cluster },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}
