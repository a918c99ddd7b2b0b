// NetworkPolicies of a desk. `X-engine`: only the desk's gateways and backup jobs, the operator
// and the metrics scraper reach the engines, and the engines reach only DNS, the exchange, and
// PostgreSQL or S3 when configured. `X-wal-backup`: backup jobs reach DNS, their engines and S3.
// A peer outside the namespace is pinned by namespace name AND pod labels: pod labels alone can be
// set by anyone who may create a pod anywhere, a namespace's name label only by the API server.
import { isIP } from 'node:net';
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import { PORT, names, selectorLabels } from '@veloz/api/names';
import type { ApiServerEndpoints, Desk, KubernetesObject, PeerSelector, RenderContext } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';

/** Where the chart installs the operator, when the operator does not say (npm run synth). */
export const DEFAULT_OPERATOR_PODS: PeerSelector = {
  namespace: 'veloz-system',
  podLabels: { 'app.kubernetes.io/name': 'veloz-operator' },
};
export const DEFAULT_SCRAPER_PODS: PeerSelector = {
  namespace: 'monitoring',
  podLabels: { 'app.kubernetes.io/name': 'prometheus' },
};

/** The label the API server sets on every namespace to its name; no user can set it otherwise. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export const peer = (p: PeerSelector): k8s.NetworkPolicyPeer => ({
  podSelector: { matchLabels: p.podLabels },
  namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: p.namespace } },
});

const tcp = (port: number): k8s.NetworkPolicyPort => ({
  protocol: 'TCP',
  port: k8s.IntOrString.fromNumber(port),
});
const ANYWHERE: k8s.NetworkPolicyPeer[] = [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }];
const DNS: k8s.NetworkPolicyEgressRule = {
  ports: [
    { protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) },
    { protocol: 'TCP', port: k8s.IntOrString.fromNumber(53) },
  ],
};
const POSTGRES_PORT = 5432;

/** The port of an S3 endpoint URL (443 by default, 80 for plain http). */
export function s3Port(endpoint: string | undefined): number {
  if (!endpoint) return 443;
  const u = new URL(endpoint);
  return u.port ? Number(u.port) : u.protocol === 'http:' ? 80 : 443;
}

/**
 * A CIDR the API server will take. The CRD's pattern lets through what only looks like one
 * (999.0.0.0/40): refused here, it becomes the reconcile's error message instead of a failed apply.
 */
export function checkCidr(field: string, cidr: string): string {
  const [address = '', prefix = '', ...rest] = cidr.split('/');
  const family = isIP(address);
  const max = family === 4 ? 32 : 128;
  if (family === 0 || rest.length > 0 || !/^\d{1,3}$/.test(prefix) || Number(prefix) > max)
    throw new Error(`${field}: "${cidr}" is not a CIDR (an IPv4 or IPv6 address, "/", a prefix length)`);
  return cidr;
}

/**
 * Where the engines renew their Leases when the operator does not say (--api-server-cidrs): any
 * address on the API server's usual ports. A policy sees the address after the Service's
 * translation, the API server's own (6443 on kubeadm and kind, 443 on most managed clusters),
 * never the `kubernetes` Service's cluster IP, so the Service cannot be named instead.
 */
export const DEFAULT_API_SERVER: ApiServerEndpoints = { cidrs: [], ports: [443, 6443] };

/** The engines' way out: DNS, the API server (their Leases), the exchange, and PostgreSQL or S3 when the spec uses them. */
function engineEgress(d: Desk, ctx: RenderContext): k8s.NetworkPolicyEgressRule[] {
  const { execution, market, wal, restore, backup } = d.spec;
  const api = ctx.apiServer ?? DEFAULT_API_SERVER;
  const rules: k8s.NetworkPolicyEgressRule[] = [
    DNS,
    {
      to: api.cidrs.length ? api.cidrs.map((cidr) => ({ ipBlock: { cidr } })) : ANYWHERE,
      ports: api.ports.map(tcp),
    },
  ];
  if (execution.mode !== 'sim_engine' || market.source !== 'sim') {
    const cidrs = execution.exchangeCidrs;
    rules.push({
      to: cidrs?.length
        ? cidrs.map((cidr, i) => ({
            ipBlock: { cidr: checkCidr(`spec.execution.exchangeCidrs[${i}]`, cidr) },
          }))
        : ANYWHERE,
      // Binance REST and WebSocket (443), and its streams' own port.
      ports: [tcp(443), tcp(9443)],
    });
  }
  const source = restore?.fromBackup?.source ?? '';
  if (wal.postgres || /^postgres(ql)?:/.test(source))
    rules.push({ to: ANYWHERE, ports: [tcp(POSTGRES_PORT)] });
  // The restore init container runs in the engine pod.
  if (source.startsWith('s3://'))
    rules.push({ to: ANYWHERE, ports: [tcp(s3Port(backup.destination.s3?.endpoint))] });
  return rules;
}

export function engineNetworkPolicy(d: Desk, ctx: RenderContext): KubernetesObject {
  const x = d.metadata.name;
  const scraper = d.spec.monitoring.scraper ?? ctx.scraperPods ?? DEFAULT_SCRAPER_PODS;
  return manifest(
    (scope) =>
      new k8s.KubeNetworkPolicy(scope, 'network-policy', {
        metadata: objectMeta(d, names(x).engine, 'engine'),
        spec: {
          podSelector: { matchLabels: selectorLabels(x, 'engine') },
          policyTypes: ['Ingress', 'Egress'],
          ingress: [
            {
              from: [
                { podSelector: { matchLabels: selectorLabels(x, 'gateway') } },
                { podSelector: { matchLabels: selectorLabels(x, 'backup') } },
                peer(ctx.operatorPods ?? DEFAULT_OPERATOR_PODS),
                peer(scraper),
              ],
              ports: [tcp(PORT)],
            },
          ],
          egress: engineEgress(d, ctx),
        },
      }),
  );
}

/** Backup jobs reach their engines, DNS, and the S3 endpoint when backing up to a bucket. */
export function backupNetworkPolicy(d: Desk): KubernetesObject {
  const x = d.metadata.name;
  const s3 = d.spec.backup.destination.s3;
  const egress: k8s.NetworkPolicyEgressRule[] = [
    DNS,
    { to: [{ podSelector: { matchLabels: selectorLabels(x, 'engine') } }], ports: [tcp(PORT)] },
  ];
  if (s3) egress.push({ to: ANYWHERE, ports: [tcp(s3Port(s3.endpoint))] });
  return manifest(
    (scope) =>
      new k8s.KubeNetworkPolicy(scope, 'backup-network-policy', {
        metadata: objectMeta(d, names(x).backupCronJob, 'backup'),
        spec: {
          podSelector: { matchLabels: selectorLabels(x, 'backup') },
          // Nothing connects to a backup job.
          policyTypes: ['Ingress', 'Egress'],
          ingress: [],
          egress,
        },
      }),
  );
}
