// render(): the desired state of one VelozDeployment (DESIGN §4), as plain Kubernetes objects.
// Pure and deterministic: everything it depends on comes in through the CR and `ctx`; no clock,
// randomness or environment. It only decides which objects exist; how each one looks is its
// builder's job, one file per object beside its test (CloudNativePG's pkg/specs shape).
// cdk8s-plus-27 builds the objects whose L2 constructs map one-to-one (ServiceAccount, ConfigMap,
// Services); the typed L1 imports shipped with cdk8s-plus-27 build the rest, where the L2
// constructs would add hashed labels, lossy quantities or miss fields
// (docs/adr/0003-crds-and-render.md).
import { VELOZ_DEPLOYMENT } from '@veloz/api/crd/crds';
import { applyDefaults } from '@veloz/api/crd/defaults';
import type { VelozDeployment } from '@veloz/api/generated/types';
import { apiKeySecret } from './api-key-secret.ts';
import { backupCronJob } from './backup-cronjob.ts';
import { restoreDrillCronJob } from './restore-drill-cronjob.ts';
import { backupPvc } from './backup-pvc.ts';
import { configMap } from './config-map.ts';
import type { Desk, KubernetesObject, RenderContext } from './context.ts';
import { engineLeaseRole, engineLeaseRoleBinding, engineServiceAccount } from './engine-lease-rbac.ts';
import { engineService } from './engine-service.ts';
import { engineStatefulSet } from './engine-statefulset.ts';
import { engineTokenSecret } from './engine-token-secret.ts';
import { gatewayCertificate } from './gateway-certificate.ts';
import { gatewayNetworkPolicy } from './gateway-network-policy.ts';
import { gatewayService } from './gateway-service.ts';
import { gatewayStatefulSet } from './gateway-statefulset.ts';
import { backupNetworkPolicy, engineNetworkPolicy } from './network-policy.ts';
import { enginePdb } from './pdb.ts';
import { prometheusRule } from './prometheus-rule.ts';
import { serviceAccount } from './service-account.ts';
import { serviceMonitor } from './service-monitor.ts';

export type { KubernetesObject, PeerSelector, RenderContext } from './context.ts';
export type { RiskBudget } from './risk-split.ts';
export { CONFIG_CHECKSUM_ANNOTATION, SECRETS_CHECKSUM_ANNOTATION } from './pod.ts';
export { ENGINE_LEASE_VERBS } from './engine-lease-rbac.ts';

/**
 * The objects of one VelozDeployment, in a stable order. The CR may come straight from a file:
 * schema defaults are applied first, exactly as the API server would.
 */
export function render(deployment: VelozDeployment, ctx: RenderContext): KubernetesObject[] {
  const cr = applyDefaults(VELOZ_DEPLOYMENT.schema, deployment);
  const name = cr.metadata.name;
  if (!name) throw new Error('VelozDeployment has no metadata.name');
  const d: Desk = { ...cr, metadata: { ...cr.metadata, name } };
  const { gateway, backup, monitoring, pairs } = d.spec;

  // The engines' account and its Lease Role first: an engine pod must never start without them.
  const out: KubernetesObject[] = [
    serviceAccount(d),
    engineServiceAccount(d),
    engineLeaseRole(d),
    engineLeaseRoleBinding(d),
  ];
  if (!gateway.apiKeySecretRef) out.push(apiKeySecret(d, ctx));
  out.push(
    engineTokenSecret(d, ctx),
    configMap(d, ctx),
    engineStatefulSet(d, ctx),
    engineService(d),
    gatewayStatefulSet(d, ctx),
    gatewayService(d),
    enginePdb(d),
    engineNetworkPolicy(d, ctx),
  );
  const gatewayPolicy = gatewayNetworkPolicy(d, ctx);
  if (gatewayPolicy) out.push(gatewayPolicy);
  // Only when cert-manager's API exists (else Degraded says the Secret will not come).
  const certificate = ctx.certManagerApiServed ? gatewayCertificate(d) : undefined;
  if (certificate) out.push(certificate);
  if (backup.destination.volume?.size) out.push(backupPvc(d));
  // Nothing to back up while hibernated.
  if (pairs > 0) out.push(backupCronJob(d, ctx), backupNetworkPolicy(d));
  const drill = pairs > 0 ? restoreDrillCronJob(d, ctx) : undefined;
  if (drill) out.push(drill);
  // Only when the Prometheus Operator API exists (else condition MonitoringReady=False).
  if (ctx.monitoringApiServed && monitoring.serviceMonitor.enabled) out.push(serviceMonitor(d));
  if (ctx.monitoringApiServed && monitoring.prometheusRule.enabled) out.push(prometheusRule(d, ctx));
  return out;
}
