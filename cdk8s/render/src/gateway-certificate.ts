// cert-manager Certificate `X-gateway`, made only with spec.gateway.tls.issuerRef: cert-manager
// issues and renews the certificate into spec.gateway.tls.secretName, the Secret the gateways
// already mount and watch, so a renewal reaches them without a restart (ADR 15). The names are
// the gateway Service's, as in-cluster clients call it, then the user's (a load balancer's).
import { ApiObject } from 'cdk8s';
import { names } from '@veloz/api/names';
import type { Desk, KubernetesObject } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';

export function gatewayCertificate(d: Desk): KubernetesObject | undefined {
  const tls = d.spec.gateway.tls;
  const issuer = tls?.issuerRef;
  if (!tls || !issuer) return undefined;
  const x = d.metadata.name;
  const svc = names(x).service;
  const ns = d.metadata.namespace ?? 'default';
  const own = [svc, `${svc}.${ns}`, `${svc}.${ns}.svc`, `${svc}.${ns}.svc.cluster.local`];
  return manifest(
    (scope) =>
      new ApiObject(scope, 'gateway-certificate', {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Certificate',
        metadata: objectMeta(d, names(x).gateway, 'gateway'),
        spec: {
          secretName: tls.secretName,
          issuerRef: { name: issuer.name, kind: issuer.kind, group: issuer.group },
          dnsNames: [...own, ...(tls.dnsNames ?? []).filter((n) => !own.includes(n))],
          usages: ['server auth', 'digital signature', 'key encipherment'],
          // A new key with each renewal: a leaked key stops working at the next one.
          privateKey: { rotationPolicy: 'Always' },
        },
      }),
  );
}
