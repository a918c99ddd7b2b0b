// Object names and labels of everything rendered for a VelozDeployment `X` (DESIGN §4): the one
// place they are derived; the operator, render, tests, dashboards and alerts all ask names().
// Selectors use only the stable labels (name, instance, component): changing anything else in the
// spec must never change a selector, which is immutable on StatefulSets.

export const PORT = 8080;
export const WAL_MOUNT = '/var/lib/veloz/wal';
export const BACKUP_MOUNT = '/backups';
export const POSTGRES_MOUNT = '/var/run/secrets/veloz/postgres';
/** Where engines find the exchange credentials (files `apiKey`, `apiSecret`). */
export const BINANCE_MOUNT = '/var/run/secrets/veloz/binance';
/** Where gateways find their API key (file `apiKey`). */
export const API_KEY_MOUNT = '/var/run/secrets/veloz/api-key';
/** Where engines, gateways and backup jobs find their engine tokens (files `trading`, `admin`, `backup`). */
export const ENGINE_TOKEN_MOUNT = '/var/run/secrets/veloz/engine-token';
export const RUN_AS = 10001;

export type Component =
  'engine' | 'gateway' | 'backup' | 'config' | 'api-key' | 'engine-token' | 'monitoring' | 'service-account';

/** A pair index, or a placeholder the kubelet fills in such as `$(POD_INDEX)`. */
type Index = number | string;

export function names(x: string) {
  const engine = `${x}-engine`;
  const gateway = `${x}-gateway`;
  const walClaimTemplate = 'wal';
  const enginePod = (i: Index) => `${engine}-${i}`;
  const engineHost = (i: Index) => `${enginePod(i)}.${engine}`;
  return {
    apiKeySecret: `${x}-gateway-api-key`,
    /** The desk's internal engine tokens, one key per scope (ADR 14). */
    engineTokenSecret: `${x}-engine-token`,
    config: `${x}-config`,
    /** StatefulSet, headless Service, PodDisruptionBudget and NetworkPolicy of the engines. */
    engine,
    /** StatefulSet, NetworkPolicy, and the cert-manager Certificate of spec.gateway.tls.issuerRef. */
    gateway,
    /** The gateways' Service. */
    service: x,
    serviceAccount: x,
    /** The engines' own ServiceAccount: the only one bound to a Role, the Lease one (ADR 18). */
    engineServiceAccount: engine,
    /** Role and RoleBinding letting the engines hold their Leases (ADR 18). */
    engineLeaseRole: `${engine}-lease`,
    /** The self-fencing Lease of pair i: named as its engine pod (VELOZ_LEASE_NAME's default). */
    engineLease: enginePod,
    backupCronJob: `${x}-wal-backup`,
    /** Restore drills (spec.backup.verify, ADR 0024). */
    restoreDrillCronJob: `${x}-restore-drill`,
    backupsPvc: `${x}-backups`,
    /** ServiceMonitor and PrometheusRule. */
    monitoring: x,
    /** The engines' volumeClaimTemplate: the StatefulSet controller names its claims walClaim(i). */
    walClaimTemplate,
    /** The WAL PersistentVolumeClaim of pair i. */
    walClaim: (i: Index) => `${walClaimTemplate}-${enginePod(i)}`,
    enginePod,
    gatewayPod: (i: Index) => `${gateway}-${i}`,
    /** A regular expression matching every engine pod (Prometheus `pod=~` selectors). */
    enginePodPattern: `${engine}-[0-9]+`,
    /** A regular expression matching the engine and gateway StatefulSets. */
    pairStatefulSetPattern: `${x}-(engine|gateway)`,
    /** Stable DNS name of engine i through the headless Service, within the namespace. */
    engineHost,
    engineUrl: (i: Index) => `http://${engineHost(i)}:${PORT}`,
  };
}

export type Names = ReturnType<typeof names>;

/** On restore-drill Jobs and pods (which carry component `backup`, for its NetworkPolicy). */
export const DRILL_LABEL = 'veloz.io/restore-drill';

export function selectorLabels(x: string, component: Component): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'veloz',
    'app.kubernetes.io/instance': x,
    'app.kubernetes.io/component': component,
  };
}

export function labels(x: string, component: Component, extra: Record<string, string> = {}) {
  return {
    ...extra,
    ...selectorLabels(x, component),
    'app.kubernetes.io/part-of': 'veloz',
    'app.kubernetes.io/managed-by': 'veloz-operator',
  };
}
