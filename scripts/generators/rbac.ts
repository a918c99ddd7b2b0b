// The operator's RBAC, the one source of the chart's Roles/ClusterRoles and of docs/rbac.md: every
// rule carries the reason it exists, so a permission nobody can explain is easy to spot and drop.
import { ENGINE_LEASE_VERBS } from '@veloz/render/render';
import { CHART_DIR } from './chart-crds.ts';

export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  /** Only these objects (verbs that name an object: get, update, patch, delete). */
  resourceNames?: string[];
  /**
   * watched: in every watched namespace (a ClusterRole cluster-wide, a Role per namespace when
   * watchNamespaces is set); lease: a Role in the lease namespace only; cluster: cluster-wide mode
   * only (namespaced installs cannot grant these and do not need to); accounts: a Role in the
   * lease namespace, with or without leader election (ADR 0017); nodes: cluster-wide in both
   * modes, only with the chart value rbac.nodes (Nodes have no namespace).
   */
  scope: 'watched' | 'lease' | 'cluster' | 'accounts' | 'nodes';
  why: string;
}

export interface NonResourceRule {
  nonResourceURLs: string[];
  verbs: string[];
  why: string;
}

/** Helm expression for the Lease name, substituted into resourceNames. */
const LEASE_NAME = '{{ .Values.leaderElection.leaseName }}';

/** Children the operator server-side applies, prunes and watches (cdk8s/render/src/render.ts). */
const OWNED_VERBS = ['get', 'list', 'watch', 'create', 'patch', 'delete'];

export const OPERATOR_RULES: RbacRule[] = [
  {
    apiGroups: ['veloz.io'],
    resources: ['velozdeployments', 'velozstrategies'],
    verbs: ['get', 'list', 'watch', 'patch'],
    scope: 'watched',
    why: 'Informers list and watch both custom resources; finalizers are added and removed with a merge patch (no update: the operator never writes a whole object).',
  },
  {
    apiGroups: ['veloz.io'],
    resources: ['velozdeployments/finalizers'],
    verbs: ['update'],
    scope: 'watched',
    why: "Children carry an owner reference with `blockOwnerDeletion: true`; where the OwnerReferencesPermissionEnforcement admission plugin runs (OpenShift), setting it needs update on the owner's finalizers.",
  },
  {
    apiGroups: ['veloz.io'],
    resources: ['velozdeployments/status', 'velozstrategies/status'],
    verbs: ['get', 'patch'],
    scope: 'watched',
    why: 'Status is written through the status subresource with server-side apply, and only when it changed.',
  },
  {
    apiGroups: [''],
    resources: ['secrets'],
    verbs: OWNED_VERBS,
    scope: 'watched',
    why: 'Generates `X-gateway-api-key` once (server-side apply creates it, hence create and patch) and watches the referenced credential, API-key and PostgreSQL Secrets so a changed Secret rolls the pods; values are hashed, never logged.',
  },
  {
    apiGroups: [''],
    resources: ['configmaps', 'services', 'serviceaccounts'],
    verbs: OWNED_VERBS,
    scope: 'watched',
    why: "`X-config`, the `X` and `X-engine` Services and the pods' ServiceAccount are applied, watched (a change wakes their VelozDeployment) and pruned when no longer desired.",
  },
  {
    apiGroups: [''],
    resources: ['persistentvolumeclaims'],
    verbs: ['get', 'list', 'watch', 'create', 'patch'],
    scope: 'watched',
    why: 'The `X-backups` claim is applied (never pruned: it holds the backups; no delete); WAL claims (from the StatefulSet template) are watched for WALReady and patched to grow them when `wal.storage.size` increases.',
  },
  {
    apiGroups: ['apps'],
    resources: ['statefulsets'],
    verbs: OWNED_VERBS,
    scope: 'watched',
    why: 'The `X-engine` and `X-gateway` StatefulSets: applied, watched for readiness and rollout, pruned.',
  },
  {
    apiGroups: ['batch'],
    resources: ['cronjobs'],
    verbs: OWNED_VERBS,
    scope: 'watched',
    why: 'The `X-wal-backup` CronJob: applied, pruned when backups are turned off or the deployment hibernates.',
  },
  {
    apiGroups: ['batch'],
    resources: ['jobs'],
    verbs: ['get', 'list', 'watch'],
    scope: 'watched',
    why: 'Backup Jobs (created by the CronJob, not by the operator) are read for `status.lastBackup` and BackupReady.',
  },
  {
    apiGroups: ['policy'],
    resources: ['poddisruptionbudgets'],
    verbs: OWNED_VERBS,
    scope: 'watched',
    why: 'The `X-engine` PodDisruptionBudget (maxUnavailable 1).',
  },
  {
    apiGroups: ['networking.k8s.io'],
    resources: ['networkpolicies'],
    verbs: OWNED_VERBS,
    scope: 'watched',
    why: 'The `X-engine` NetworkPolicy: engines reachable only from their gateways, backup jobs, the operator and metrics scrapers.',
  },
  {
    apiGroups: ['monitoring.coreos.com'],
    resources: ['servicemonitors', 'prometheusrules'],
    verbs: OWNED_VERBS,
    scope: 'watched',
    why: 'The `X` ServiceMonitor and PrometheusRule, only when the Prometheus Operator API is served (else MonitoringReady=False).',
  },
  {
    apiGroups: ['cert-manager.io'],
    resources: ['certificates'],
    verbs: OWNED_VERBS,
    scope: 'watched',
    why: 'The `X-gateway` Certificate of `spec.gateway.tls.issuerRef`, only when the cert-manager API is served.',
  },
  {
    apiGroups: ['rbac.authorization.k8s.io'],
    resources: ['roles', 'rolebindings'],
    verbs: OWNED_VERBS,
    scope: 'watched',
    why: "The engines' Role and RoleBinding `X-engine-lease` (ADR 0018): create Leases, get and update only the desk's `X-engine-<i>` Leases, bound to the engines' ServiceAccount `X-engine`. Applied, watched and pruned like the other children. No `escalate` or `bind`: the API server lets the operator grant only what it holds itself (the next rule).",
  },
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    verbs: [...ENGINE_LEASE_VERBS.any, ...ENGINE_LEASE_VERBS.own],
    scope: 'watched',
    why: "Never used by the operator itself: Kubernetes' RBAC escalation check lets a Role be created or bound only by whoever holds its permissions, and the engines' Role holds these on the pairs' Leases (ADR 0018).",
  },
  {
    apiGroups: [''],
    resources: ['pods'],
    verbs: ['get', 'list', 'watch'],
    scope: 'watched',
    why: 'Pod readiness per pair (status.pairs, readyPairs), and the engine pod IPs the operator calls in-cluster.',
  },
  {
    apiGroups: [''],
    resources: ['nodes'],
    verbs: ['get', 'list', 'watch'],
    scope: 'nodes',
    why: "A pair is lost with its engine's node: per pair `NodeReady` and the desk's `PairLost` (a Warning Event, Argo CD Degraded, [runbook](runbooks/node-loss.md)) read the Ready condition of the nodes the engine pods are bound to. Read only, and only metadata and the Ready condition are kept. Without it (`rbac.nodes: false`) pairs say `NodeReady=Unknown` `NodesNotReadable` and nothing else changes; the operator asks with a SelfSubjectAccessReview at start, which every authenticated user may create.",
  },
  {
    apiGroups: [''],
    resources: ['pods/proxy'],
    verbs: ['get', 'create', 'update', 'delete'],
    scope: 'watched',
    why: "When the operator runs outside the cluster it reaches the engines' strategy API through the API server's pod proxy (GET, PUT, DELETE /api/strategies/NAME; POST maps to create).",
  },
  {
    apiGroups: [''],
    resources: ['events'],
    verbs: ['create', 'patch'],
    scope: 'watched',
    why: 'Events on VelozDeployments and VelozStrategies (Created, Updated, Pruned, condition changes).',
  },
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    verbs: ['create'],
    scope: 'lease',
    why: 'Leader election: the first replica creates the Lease (create cannot be limited to a name).',
  },
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    verbs: ['get', 'update'],
    resourceNames: [LEASE_NAME],
    scope: 'lease',
    why: 'Leader election: replicas read the Lease and the holder renews it, only this one Lease.',
  },
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    verbs: ['get', 'create', 'update', 'delete'],
    scope: 'accounts',
    why: 'One desk per exchange account (ADR 0017): a Lease `veloz-account-<hash>` per account, created by the first desk on it, taken over from a holder that is gone, deleted with its holder. The names depend on the accounts, so they cannot be listed here.',
  },
  {
    apiGroups: [''],
    resources: ['secrets'],
    verbs: ['create'],
    scope: 'accounts',
    why: 'The HMAC key that names the accounts (the hash of an API key, never the key) is created once as `veloz-account-hash-key` (create cannot be limited to a name).',
  },
  {
    apiGroups: [''],
    resources: ['secrets'],
    verbs: ['get'],
    resourceNames: ['veloz-account-hash-key'],
    scope: 'accounts',
    why: 'The HMAC key of the account hashes is read at start, only this one Secret.',
  },
];

export const OPERATOR_NON_RESOURCE_RULES: NonResourceRule[] = [
  {
    nonResourceURLs: [
      '/apis/monitoring.coreos.com',
      '/apis/monitoring.coreos.com/v1',
      '/apis/cert-manager.io',
      '/apis/cert-manager.io/v1',
    ],
    verbs: ['get'],
    why: 'Discovery: whether ServiceMonitor and PrometheusRule, and Certificate, are served. Also granted to every authenticated user by the default `system:discovery` ClusterRole, which is what namespaced installs rely on.',
  },
];

/** Rules aggregated into the default `view`/`edit`/`admin` ClusterRoles, so users get VeloZ with them. */
export const USER_RULES: Record<'view' | 'edit', RbacRule> = {
  view: {
    apiGroups: ['veloz.io'],
    resources: ['velozdeployments', 'velozstrategies', 'velozdeployments/status', 'velozstrategies/status'],
    verbs: ['get', 'list', 'watch'],
    scope: 'cluster',
    why: 'Aggregated into `view`: whoever may view a namespace may read its VeloZ resources.',
  },
  edit: {
    apiGroups: ['veloz.io'],
    resources: ['velozdeployments', 'velozstrategies'],
    verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'],
    scope: 'cluster',
    why: "Aggregated into `edit` and `admin`: whoever may edit a namespace may manage its VeloZ resources (status stays the operator's).",
  },
};

const HEADER =
  '{{- /* Generated by `npm run gen` from scripts/generators/rbac.ts (each rule says why it exists). Do not edit. */}}\n';

const list = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;

function ruleYaml(r: RbacRule, indent = ''): string {
  const lines = [`${indent}# ${r.why}`, `${indent}- apiGroups: ${list(r.apiGroups)}`];
  lines.push(`${indent}  resources: ${list(r.resources)}`);
  if (r.resourceNames) lines.push(`${indent}  resourceNames: ${list(r.resourceNames)}`);
  lines.push(`${indent}  verbs: ${list(r.verbs)}`);
  return lines.join('\n');
}

function nonResourceYaml(r: NonResourceRule): string {
  return [`# ${r.why}`, `- nonResourceURLs: ${list(r.nonResourceURLs)}`, `  verbs: ${list(r.verbs)}`].join(
    '\n',
  );
}

const rulesOf = (scope: RbacRule['scope']) =>
  OPERATOR_RULES.filter((r) => r.scope === scope)
    .map((r) => ruleYaml(r))
    .join('\n');

const meta = (kind: string, name: string, namespace: string | undefined, extraLabels = '') =>
  [
    `apiVersion: rbac.authorization.k8s.io/v1`,
    `kind: ${kind}`,
    `metadata:`,
    `  name: ${name}`,
    ...(namespace ? [`  namespace: ${namespace}`] : []),
    `  labels:`,
    `    {{- include "veloz-operator.labels" $ | nindent 4 }}`,
    ...(extraLabels ? [extraLabels] : []),
  ].join('\n');

const binding = (kind: 'RoleBinding' | 'ClusterRoleBinding', roleKind: string, name: string, ns?: string) =>
  [
    meta(kind, name, ns),
    `roleRef:`,
    `  apiGroup: rbac.authorization.k8s.io`,
    `  kind: ${roleKind}`,
    `  name: ${name}`,
    `subjects:`,
    `  - kind: ServiceAccount`,
    `    name: {{ include "veloz-operator.serviceAccountName" $ }}`,
    `    namespace: {{ $.Release.Namespace }}`,
  ].join('\n');

export function rbacTemplate(): string {
  const full = '{{ include "veloz-operator.fullname" $ }}';
  const clusterName = '{{ include "veloz-operator.clusterRoleName" $ }}';
  return `${HEADER}{{- if .Values.rbac.create }}
{{- if .Values.watchNamespaces }}
{{- /* Namespaced mode: a Role and RoleBinding in each watched namespace; cluster-wide, only Nodes (below). */}}
{{- range $ns := .Values.watchNamespaces }}
---
${meta('Role', full, '{{ $ns }}')}
rules:
${rulesOf('watched')}
---
${binding('RoleBinding', 'Role', full, '{{ $ns }}')}
{{- end }}
{{- else }}
{{- /* Cluster-wide mode: every namespace is watched. */}}
---
${meta('ClusterRole', clusterName, undefined)}
rules:
${[rulesOf('watched'), rulesOf('cluster'), ...OPERATOR_NON_RESOURCE_RULES.map(nonResourceYaml)].filter(Boolean).join('\n')}
{{- if .Values.rbac.nodes }}
${rulesOf('nodes')}
{{- end }}
---
${binding('ClusterRoleBinding', 'ClusterRole', clusterName)}
{{- end }}
{{- if and .Values.watchNamespaces .Values.rbac.nodes }}
{{- /* Namespaced mode still reads Nodes (cluster-scoped): a ClusterRole with that alone. */}}
---
${meta('ClusterRole', `${clusterName}-nodes`, undefined)}
rules:
${rulesOf('nodes')}
---
${binding('ClusterRoleBinding', 'ClusterRole', `${clusterName}-nodes`)}
{{- end }}
{{- /* One desk per exchange account: the account Leases and their hash key, in the Lease namespace. */}}
---
${meta('Role', `${full}-accounts`, '{{ include "veloz-operator.leaseNamespace" $ }}')}
rules:
${rulesOf('accounts')}
---
${binding('RoleBinding', 'Role', `${full}-accounts`, '{{ include "veloz-operator.leaseNamespace" $ }}')}
{{- if .Values.leaderElection.enabled }}
{{- /* Leader election: only the Lease namespace. */}}
---
${meta('Role', `${full}-leader-election`, '{{ include "veloz-operator.leaseNamespace" $ }}')}
rules:
${rulesOf('lease')}
---
${binding('RoleBinding', 'Role', `${full}-leader-election`, '{{ include "veloz-operator.leaseNamespace" $ }}')}
{{- end }}
{{- if .Values.rbac.aggregateToDefaultRoles }}
---
${meta('ClusterRole', `${clusterName}-view`, undefined, '    rbac.authorization.k8s.io/aggregate-to-view: "true"')}
rules:
${ruleYaml(USER_RULES.view)}
---
${meta(
  'ClusterRole',
  `${clusterName}-edit`,
  undefined,
  '    rbac.authorization.k8s.io/aggregate-to-edit: "true"\n    rbac.authorization.k8s.io/aggregate-to-admin: "true"',
)}
rules:
${ruleYaml(USER_RULES.edit)}
{{- end }}
{{- end }}
`;
}

function docRow(r: RbacRule | NonResourceRule, where: string): string {
  const what =
    'nonResourceURLs' in r
      ? r.nonResourceURLs.map((u) => `\`${u}\``).join(', ')
      : r.resources.map((res) => `\`${r.apiGroups[0] ? `${res}.${r.apiGroups[0]}` : res}\``).join(', ') +
        (r.resourceNames ? ` (only \`${r.resourceNames.join(', ')}\`)` : '');
  return `| ${what} | ${r.verbs.join(', ')} | ${where} | ${r.why.replaceAll('|', '\\|')} |`;
}

const WHERE: Record<RbacRule['scope'], string> = {
  watched: 'watched namespaces',
  lease: 'lease namespace',
  cluster: 'cluster',
  accounts: 'lease namespace',
  nodes: 'cluster (`rbac.nodes`)',
};

export function rbacDoc(): string {
  return `<!-- Generated by \`npm run gen\` from scripts/generators/rbac.ts. Do not edit. -->
# Operator RBAC

Every permission the \`veloz-operator\` chart grants, and why. The chart's RBAC templates
(\`${CHART_DIR}/templates/rbac.yaml\`) are generated from the same list, so this page and what is
installed cannot disagree. Security considerations are in [security.md](security.md).

Two modes, chosen by the chart value \`watchNamespaces\`:

- **Cluster-wide** (\`watchNamespaces: []\`, the default): one ClusterRole and ClusterRoleBinding
  with the "watched namespaces" and "cluster" rules.
- **Namespaced** (\`watchNamespaces: [a, b]\`): a Role and RoleBinding in each listed namespace with
  the "watched namespaces" rules; the operator runs with \`--namespaces a,b\`. The namespaces
  must exist before the chart is installed. Nothing cluster-wide but read access to Nodes.

Nodes are cluster-scoped, so reading them takes a cluster-wide grant in both modes: the
cluster-wide ClusterRole includes it, and namespaced mode adds a ClusterRole
\`<release namespace>-<name>-nodes\` with that rule alone. It is what lets the operator say that
a pair was lost with its node (\`PairLost\`, [runbook](runbooks/node-loss.md)) rather than
merely not ready. Set \`rbac.nodes: false\` where no cluster-wide grant is allowed at all: pairs
then report \`NodeReady=Unknown\` with reason \`NodesNotReadable\`, and nothing else changes.

In both modes a Role in the lease namespace (the release namespace unless
\`leaderElection.namespace\` is set) allows leader election on one Lease, and another there
holds the exchange account Leases and the key of their hashed names (ADR 0017). In the watched
namespaces the operator grants each desk's engines their self-fencing Leases through a Role it
renders, \`X-engine-lease\` (ADR 0018), and so must hold those Lease verbs itself.

## Operator

| resources | verbs | where | why |
|---|---|---|---|
${[...OPERATOR_RULES.map((r) => docRow(r, WHERE[r.scope])), ...OPERATOR_NON_RESOURCE_RULES.map((r) => docRow(r, 'cluster-wide mode'))].join('\n')}

The operator never gets: \`update\` of whole objects (it applies only the fields it owns), any
write to Nodes, any access to Namespaces or CRDs, ClusterRoles or ClusterRoleBindings, the \`escalate\` and
\`bind\` verbs (so the only Roles it can create grant what it holds: the engines' Lease verbs),
\`pods/exec\`, or Secrets outside the watched namespaces in namespaced mode.

## Users (\`rbac.aggregateToDefaultRoles\`, on by default)

| resources | verbs | aggregated into | why |
|---|---|---|---|
${docRow(USER_RULES.view, 'view')}
${docRow(USER_RULES.edit, 'edit, admin')}
`;
}
