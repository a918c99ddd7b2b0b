// Which pass of an object is urgent: one the operator owes the user (a spec it has not acted on,
// a deletion to finish), as opposed to a refresh of status woken by a child or a timer.
import type { KubernetesObject } from '../kube/resources.ts';
import type { Priority } from './work-queue.ts';

export function priorityOf(o: KubernetesObject): Priority {
  const m = o.metadata;
  if (m?.deletionTimestamp) return 'urgent';
  const observed = (o as { status?: { observedGeneration?: number } }).status?.observedGeneration;
  return m?.generation !== undefined && observed !== m.generation ? 'urgent' : 'normal';
}
