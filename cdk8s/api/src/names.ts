// Object names and labels of everything rendered for a VelozDeployment `X` (DESIGN §4). Selectors
// use only the stable labels (name, instance, component): changing anything else in the spec must
// never change a selector, which is immutable on StatefulSets.

export const PORT = 8080;
export const WAL_MOUNT = '/var/lib/veloz/wal';
export const BACKUP_MOUNT = '/backups';
export const POSTGRES_MOUNT = '/var/run/secrets/veloz/postgres';
export const RUN_AS = 10001;

export type Component =
  'engine' | 'gateway' | 'backup' | 'config' | 'api-key' | 'monitoring' | 'service-account';

export function names(x: string) {
  return {
    apiKeySecret: `${x}-gateway-api-key`,
    config: `${x}-config`,
    engine: `${x}-engine`,
    gateway: `${x}-gateway`,
    service: x,
    serviceAccount: x,
    backupCronJob: `${x}-wal-backup`,
    backupsPvc: `${x}-backups`,
    monitoring: x,
    /** The engines' volumeClaimTemplate: its claims are `wal-<engine pod>`. */
    walClaimTemplate: 'wal',
    /** Stable DNS name of engine i through the headless Service. */
    engineUrl: (i: number | string) => `http://${x}-engine-${i}.${x}-engine:${PORT}`,
  };
}

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
