// Nodes are cluster-scoped: the operator may read them only when its chart granted it
// (rbac.nodes, a ClusterRole even in namespaced mode). Whether it may is asked once at start with
// SelfSubjectAccessReviews, as `kubectl auth can-i` does; the Node informer starts only if so.
// Otherwise every pair's NodeReady says NodesNotReadable: an informer that may not list would
// retry forever, and the cache, never synced, would keep the operator from reconciling at all.
import type { Logger } from 'pino';
import type { KubeClient } from './kube/client.ts';
import { RESOURCES } from './kube/resources.ts';

interface AccessReview {
  status?: { allowed?: boolean };
}

/** Whether this operator may `verb` Nodes, cluster-wide. */
export async function mayOnNodes(client: Pick<KubeClient, 'create'>, verb: string): Promise<boolean> {
  const review = await client.create<AccessReview>(RESOURCES.selfSubjectAccessReview, undefined, {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: { resourceAttributes: { group: '', version: 'v1', resource: 'nodes', verb } },
  });
  return review.status?.allowed === true;
}

/** Whether the operator reads Nodes (their informer runs). */
export interface NodeAccess {
  readonly readable: boolean;
}

/**
 * Whether list and watch of Nodes are both allowed. A review that fails counts as not allowed,
 * logged: the operator still runs, without node-loss detection.
 */
export async function nodeAccess(client: Pick<KubeClient, 'create'>, log: Logger): Promise<NodeAccess> {
  try {
    const [list, watch] = await Promise.all([mayOnNodes(client, 'list'), mayOnNodes(client, 'watch')]);
    if (list && watch) return { readable: true };
    log.info('Nodes may not be listed and watched (chart value rbac.nodes=false): node loss is not detected');
  } catch (err) {
    log.warn({ err }, 'could not ask whether Nodes may be read: node loss is not detected');
  }
  return { readable: false };
}
