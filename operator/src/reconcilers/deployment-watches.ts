// What the VelozDeployment controller watches (controller-runtime's SetupWithManager): the
// deployments; every kind render() makes, and what those make in turn (pods, jobs, claims); and
// the Secrets a deployment refers to, found through an index of deployments by Secret.
import type { VelozDeploymentSpec } from '@veloz/api/generated/types';
import type { CachedDeployment, CachedNode, CachedPod } from '../cache-transforms.ts';
import type { IndexedCache } from '../cache.ts';
import { RESOURCES, objectKey } from '../kube/resources.ts';
import { ownerKey, type Watches } from '../runtime/watches.ts';
import { LIVE_DESKS } from '../accounts.ts';
import { CALENDAR_LABEL } from '@veloz/api/crd/maintenance';

/** Index of VelozDeployments by their account share group (spec.execution.accountShare). */
export const BY_SHARE_GROUP = 'accountShare';

/** Index of VelozDeployments by their trading calendar ConfigMap (`namespace/name`). */
export const BY_CALENDAR = 'calendarRef';

/** Index of pods by the node they are bound to (spec.nodeName). */
export const BY_NODE = 'nodeName';

/** Index of Nodes by name: whether a node is still cached (the watch is told of deletions too). */
const NODE_NAME = 'name';

/** The Ready status each node last had, per cache (one per running operator). */
const lastReadiness = new WeakMap<IndexedCache, Map<string, string>>();

/**
 * The desks with a pod on `node`, when its readiness changed (or it went): node heartbeats and
 * periodic resyncs change nothing a desk reads, so they wake none.
 */
export function desksOnChangedNode(node: CachedNode, cache: IndexedCache): string[] {
  const name = node.metadata.name ?? '';
  const seen = lastReadiness.get(cache) ?? new Map<string, string>();
  lastReadiness.set(cache, seen);
  const gone = cache.byIndex(RESOURCES.node, NODE_NAME, name).length === 0;
  const ready = gone ? 'Deleted' : (node.status.conditions?.[0]?.status ?? 'None');
  if (seen.get(name) === ready) return [];
  if (gone) seen.delete(name);
  else seen.set(name, ready);
  const keys = cache.byIndex(RESOURCES.pod, BY_NODE, name).map((p) => ownerKey(p));
  return [...new Set(keys.filter((k): k is string => !!k))];
}

/** Index of VelozDeployments by the Secrets (`namespace/name`) their spec refers to. */
export const BY_SECRET = 'secretRefs';

/** The names of the Secrets a deployment spec refers to (credentials, API key, PostgreSQL). */
export function referencedSecrets(spec: VelozDeploymentSpec | undefined): string[] {
  // Optional all the way: a cached spec written under an older schema may lack any of them.
  return [
    spec?.execution?.credentialsSecretRef?.name,
    spec?.gateway?.apiKeySecretRef?.name,
    spec?.wal?.postgres?.secretRef?.name,
  ].filter((n): n is string => !!n);
}

/**
 * The Secrets whose changes wake a deployment: those above, and the gateways' TLS Secret, which
 * is checked but not hashed (the gateways pick up a rotated certificate without a restart).
 */
export function watchedSecrets(spec: VelozDeploymentSpec | undefined): string[] {
  const tls = spec?.gateway?.tls?.secretName;
  return tls ? [...referencedSecrets(spec), tls] : referencedSecrets(spec);
}

export const DEPLOYMENT_WATCHES: Watches = {
  for: RESOURCES.velozDeployment,
  owns: [
    RESOURCES.secret,
    RESOURCES.configMap,
    RESOURCES.service,
    RESOURCES.serviceAccount,
    RESOURCES.role,
    RESOURCES.roleBinding,
    RESOURCES.role,
    RESOURCES.roleBinding,
    RESOURCES.statefulSet,
    RESOURCES.pdb,
    RESOURCES.networkPolicy,
    RESOURCES.cronJob,
    RESOURCES.job,
    RESOURCES.pod,
    RESOURCES.pvc,
    RESOURCES.serviceMonitor,
    RESOURCES.prometheusRule,
    RESOURCES.certificate,
  ],
  watches: [
    {
      // A desk of a share group that changes (scaled, new limits, joined, left) wakes the others:
      // they split one risk budget, which each re-renders (ADR 0017).
      resource: RESOURCES.velozDeployment,
      map: (o, cache) => {
        // Called only with objects of this watch's resource (runtime/watches.ts).
        const d = o as CachedDeployment;
        const group = d.spec?.execution?.accountShare;
        if (!group) return [];
        return cache
          .byIndex(RESOURCES.velozDeployment, BY_SHARE_GROUP, group)
          .map(objectKey)
          .filter((k) => k !== objectKey(d));
      },
    },
    {
      // A trading calendar (spec.maintenance.calendarRef) that changes wakes the desks using it:
      // a held change may be released, or a window may move.
      resource: RESOURCES.configMap,
      selector: `${CALENDAR_LABEL}=true`,
      map: (c, cache) => cache.byIndex(RESOURCES.velozDeployment, BY_CALENDAR, objectKey(c)).map(objectKey),
    },
    {
      // A Secret change (credentials rotated, a key added) wakes every deployment referring to it.
      resource: RESOURCES.secret,
      map: (s, cache) => cache.byIndex(RESOURCES.velozDeployment, BY_SECRET, objectKey(s)).map(objectKey),
    },
    {
      // A node whose readiness changes wakes the desks with pods on it (NodeReady, PairLost). Its
      // informer runs only where the operator may read Nodes (node-access.ts).
      resource: RESOURCES.node,
      map: (n: CachedNode, cache: IndexedCache) => desksOnChangedNode(n, cache),
    },
  ],
  indexes: [
    {
      resource: RESOURCES.pod,
      name: BY_NODE,
      values: (p: CachedPod) => (p.spec.nodeName ? [p.spec.nodeName] : []),
    },
    {
      resource: RESOURCES.node,
      name: NODE_NAME,
      values: (n: CachedNode) => (n.metadata.name ? [n.metadata.name] : []),
    },
    {
      resource: RESOURCES.velozDeployment,
      name: BY_CALENDAR,
      values: (d: CachedDeployment) => {
        const name = d.spec?.maintenance?.calendarRef?.name;
        return name ? [`${d.metadata.namespace ?? ''}/${name}`] : [];
      },
    },
    {
      resource: RESOURCES.velozDeployment,
      name: BY_SHARE_GROUP,
      values: (d: CachedDeployment) =>
        d.spec?.execution?.accountShare ? [d.spec.execution.accountShare] : [],
    },
    {
      // Every desk that trades on an exchange, in every namespace: the desks an account Lease
      // holder is checked against, and a share group's members (accounts.ts).
      resource: RESOURCES.velozDeployment,
      name: LIVE_DESKS,
      values: (d: CachedDeployment) =>
        d.spec?.execution?.mode && d.spec.execution.mode !== 'sim_engine' ? ['live'] : [],
    },
    {
      resource: RESOURCES.velozDeployment,
      name: BY_SECRET,
      values: (d: CachedDeployment) =>
        watchedSecrets(d.spec).map((name) => `${d.metadata.namespace ?? ''}/${name}`),
    },
  ],
};
