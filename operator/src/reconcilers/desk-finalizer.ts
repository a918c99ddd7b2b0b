// The desk's finalizer guards what owner references cannot: its strategies stop (and cancel their
// orders on its engines) before the engines go, and its exchange account's Lease is given up. A
// desk with neither needs none, and most desks at scale have neither when they are created: the
// finalizer is added once a strategy refers to the desk or the desk holds its account (ADR 30),
// not to every desk, which saved a write per desk.
import type { CachedDeployment } from '../cache-transforms.ts';
import type { KubeClient } from '../kube/client.ts';
import { RESOURCES } from '../kube/resources.ts';

export const DEPLOYMENT_FINALIZER = 'veloz.io/deployment-cleanup';

const guarded = (desk: CachedDeployment) => !!desk.metadata.finalizers?.includes(DEPLOYMENT_FINALIZER);

/** Whether the desk carries the finalizer, or cannot get it any more (being deleted). */
function finalizerSettled(desk: CachedDeployment): boolean {
  return !!desk.metadata.deletionTimestamp || guarded(desk);
}

/** A desk being deleted without the finalizer: garbage collection takes its engines now. */
export function deskGoesUnguarded(desk: CachedDeployment): boolean {
  return !!desk.metadata.deletionTimestamp && !guarded(desk);
}

/**
 * Adds the finalizer unless present. The desk's resourceVersion goes with it: the patch replaces
 * the whole list, so a finalizer someone else added meanwhile must not be lost (a conflict retries).
 */
export async function addDeskFinalizer(
  writer: Pick<KubeClient, 'mergePatch'>,
  desk: CachedDeployment,
): Promise<void> {
  if (finalizerSettled(desk)) return;
  await writer.mergePatch(
    RESOURCES.velozDeployment,
    desk.metadata.namespace ?? '',
    desk.metadata.name ?? '',
    {
      metadata: {
        finalizers: [...(desk.metadata.finalizers ?? []), DEPLOYMENT_FINALIZER],
        resourceVersion: desk.metadata.resourceVersion,
      },
    },
  );
}
