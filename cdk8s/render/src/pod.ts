// The pod-level settings engines, gateways and backup jobs share: no API token, the restricted
// security context, spreading over nodes, and the annotations that roll pods on a config change.
import type * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import { RUN_AS, names, selectorLabels } from '@veloz/api/names';
import type { Component } from '@veloz/api/names';
import { checksum, configData } from './config.ts';
import type { Desk, RenderContext } from './context.ts';
import { q } from './quantity.ts';

export const CONFIG_CHECKSUM_ANNOTATION = 'veloz.io/config-checksum';
export const SECRETS_CHECKSUM_ANNOTATION = 'veloz.io/secrets-checksum';

const podSecurity: k8s.PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: RUN_AS,
  runAsGroup: RUN_AS,
  fsGroup: RUN_AS,
  fsGroupChangePolicy: 'OnRootMismatch',
  seccompProfile: { type: 'RuntimeDefault' },
};

export const tmpVolume: k8s.Volume = { name: 'tmp', emptyDir: { sizeLimit: q('256Mi') } };

export function podSpec(
  d: Desk,
  component: Component,
  spec: Omit<k8s.PodSpec, 'securityContext'>,
): k8s.PodSpec {
  return {
    serviceAccountName: names(d.metadata.name).serviceAccount,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: podSecurity,
    terminationGracePeriodSeconds: 30,
    ...spec,
    // Spread pairs over nodes when the cluster has several; never block scheduling on one node.
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: selectorLabels(d.metadata.name, component) },
      },
    ],
  };
}

/** Checksums of the ConfigMap data and of the referenced Secrets: a change rolls the pods. */
export function podAnnotations(d: Desk, ctx: RenderContext): Record<string, string> {
  const annotations: Record<string, string> = {
    [CONFIG_CHECKSUM_ANNOTATION]: checksum(configData(d.spec, ctx.riskBudget)),
  };
  if (ctx.secretsHash) annotations[SECRETS_CHECKSUM_ANNOTATION] = ctx.secretsHash;
  return annotations;
}
