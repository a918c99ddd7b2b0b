// Per-test access to the cluster: a client, a fresh namespace, and waiting for a condition.
import { inject } from 'vitest';
import { KubeClient } from '@veloz/operator/kube/client';
import { RESOURCES } from '@veloz/operator/kube/resources';

export function kubeconfig(): string {
  return inject('kubeconfig');
}

export function client(): KubeClient {
  return KubeClient.load(kubeconfig());
}

/** Creates a uniquely named namespace; the returned function deletes it. */
export async function createNamespace(
  c: KubeClient,
  prefix = 'e2e',
): Promise<{ name: string; remove: () => Promise<void> }> {
  const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  await c.create(RESOURCES.namespace, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return { name, remove: () => c.delete(RESOURCES.namespace, undefined, name) };
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
