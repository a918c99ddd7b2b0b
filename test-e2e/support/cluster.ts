// Per-test access to the cluster: a client, a fresh namespace, and waiting for a condition.
import { inject } from 'vitest';
import { KubeClient, isNotFound } from '@veloz/operator/kube/client';
import { RESOURCES, type KubernetesObject, type ResourceRef } from '@veloz/operator/kube/resources';

/** Nodes, which the operator watches for PairLost (RESOURCES.node). */
export const NODE: ResourceRef = RESOURCES.node;

/**
 * The node a pod is bound to, and whether it is one of kwok's fake nodes (whose pods run nothing:
 * an engine there never answers); undefined while the pod is not bound.
 */
export async function nodeOf(
  c: KubeClient,
  namespace: string,
  pod: string,
): Promise<{ name: string; fake: boolean } | undefined> {
  const p = await c.find<KubernetesObject & { spec?: { nodeName?: string } }>(RESOURCES.pod, namespace, pod);
  const name = p?.spec?.nodeName;
  if (!name) return undefined;
  const node = await c.find<KubernetesObject>(NODE, undefined, name);
  return { name, fake: node?.metadata?.annotations?.['kwok.x-k8s.io/node'] === 'fake' };
}

export function kubeconfig(): string {
  return inject('kubeconfig');
}

export function client(): KubeClient {
  return KubeClient.load(kubeconfig());
}

/**
 * Creates a uniquely named namespace; the returned function deletes it. The case's operator is
 * gone by then, so the finalizers it left on the custom resources are removed as a user would
 * after uninstalling it: else the namespace stays Terminating for good on a long-lived cluster
 * (kind).
 */
export async function createNamespace(
  c: KubeClient,
  prefix = 'e2e',
): Promise<{ name: string; remove: () => Promise<void> }> {
  const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  await c.create(RESOURCES.namespace, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  const remove = async () => {
    await c.delete(RESOURCES.namespace, undefined, name);
    for (const r of [RESOURCES.velozStrategy, RESOURCES.velozDeployment]) {
      for (const o of (await c.list(r, name)).items) {
        if (!o.metadata?.finalizers?.length) continue;
        await c
          .mergePatch(r, name, o.metadata.name ?? '', { metadata: { finalizers: null } })
          .catch((err: unknown) => {
            if (!isNotFound(err)) throw err;
          });
      }
    }
  };
  return { name, remove };
}

/** Polls `fn` until it returns a value that is not undefined/false, or fails with its last state. */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
