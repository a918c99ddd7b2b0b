// Builds self-fencing from the configuration (ADR 0018): on in a cluster unless VELOZ_LEASE=false,
// off outside one (no KUBERNETES_SERVICE_HOST), and the engine says which at start.
import { hostname } from 'node:os';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Config } from '@veloz/api/variables';
import { deploymentPair } from '../engine/desk-pair.ts';
import { InClusterLeaseApi, inClusterServer } from './lease-api.ts';
import { LeaseFence } from './lease-fence.ts';

export type FenceConfig = Pick<
  Config,
  | 'lease'
  | 'leaseName'
  | 'leaseHolder'
  | 'leaseDuration'
  | 'leaseRenewPeriod'
  | 'leaseCredentialsDir'
  | 'deploymentName'
  | 'pairIndex'
>;

export function fenceFromConfig(
  c: FenceConfig,
  env: NodeJS.ProcessEnv,
  log: Logger,
  registry: Registry,
): LeaseFence | undefined {
  const fencedGauge = new Gauge({
    name: 'veloz_engine_fenced',
    help: '1 while the engine refuses new orders because it cannot renew its Lease (self-fencing)',
    registers: [registry],
  });
  const failures = new Counter({
    name: 'veloz_lease_renew_failures_total',
    help: 'Failed renewals of the engine Lease, by kind: unreachable, held (by another holder), conflict, refused (401/403)',
    labelNames: ['kind'],
    registers: [registry],
  });
  const server = inClusterServer(env);
  if (!c.lease) {
    log.info('self-fencing is off (VELOZ_LEASE=false): the engine trades without holding a Lease');
    return undefined;
  }
  if (server === undefined) {
    log.info('self-fencing is off: not in a cluster (no KUBERNETES_SERVICE_HOST)');
    return undefined;
  }
  const { deployment, pair } = deploymentPair(c);
  const name = c.leaseName ?? `${deployment}-engine-${pair}`;
  const holder = c.leaseHolder ?? `${hostname()}_${process.pid}`;
  const api = new InClusterLeaseApi({
    server,
    credentialsDir: c.leaseCredentialsDir,
    name,
    timeoutMs: c.leaseRenewPeriod * 1000,
  });
  log.info(
    { lease: name, holder, server, durationSeconds: c.leaseDuration, renewSeconds: c.leaseRenewPeriod },
    'self-fencing: holding a Lease for this pair; no new orders while it cannot be renewed',
  );
  return new LeaseFence({
    api,
    name,
    holder,
    durationMs: c.leaseDuration * 1000,
    renewMs: c.leaseRenewPeriod * 1000,
    log,
    hooks: {
      onFenced: (f) => fencedGauge.set(f ? 1 : 0),
      onRenewFailure: (kind) => failures.inc({ kind }),
    },
  });
}
