// What render() and its builders take and give: the caller's context and the plain manifests.
import type { VelozDeployment } from '@veloz/api/generated/types';
import type { RiskBudget } from './risk-split.ts';

export interface RenderContext {
  /** The operator's own image: the default of spec.image, so versions always match. */
  defaultImage: string;
  /**
   * Value of the generated API key (Secret `X-gateway-api-key`); must be given unless
   * spec.gateway.apiKeySecretRef is set, and is then ignored. Generated once by the caller.
   */
  apiKey?: string;
  /**
   * The desk's engine tokens, one per scope (Secret `X-engine-token`, ADR 14); required. Generated
   * once by the caller and then read back, so they stay until someone rotates them.
   */
  engineTokens?: { trading: string; admin: string; backup: string };
  /** Whether monitoring.coreos.com/v1 is served (ServiceMonitor and PrometheusRule). */
  monitoringApiServed: boolean;
  /** Whether cert-manager.io/v1 Certificates are served (spec.gateway.tls.issuerRef renders one). */
  certManagerApiServed?: boolean;
  /**
   * Hash of the data of every referenced Secret (credentials, API key, PostgreSQL): a pod
   * template annotation, so a changed Secret rolls the pods. Never the values themselves.
   */
  secretsHash?: string;
  /** The operator's pods, allowed to reach the engines (the operator's --operator-namespace and --operator-pod-labels). */
  operatorPods?: PeerSelector;
  /**
   * Where the API server listens, as the pods' packets address it (its endpoints, not the
   * `kubernetes` Service): the engines renew their Leases there (NetworkPolicy X-engine). Absent:
   * any address on ports 443 and 6443.
   */
  apiServer?: ApiServerEndpoints;
  /** Metrics scrapers allowed to reach the engines, unless spec.monitoring.scraper says (--scraper-*). */
  scraperPods?: PeerSelector;
  /**
   * Base of the alerts' runbook_url annotations when spec.monitoring.prometheusRule.runbookBaseUrl
   * is absent (the operator's --runbook-base-url); @veloz/api/runbooks' default otherwise.
   */
  runbookBaseUrl?: string;
  /**
   * The risk budget of the desk's account share group (spec.execution.accountShare): the smallest
   * limits of its desks and all their pairs, as the operator sees them. Absent: the desk's own
   * limits over its own pairs. Either way each engine gets an even share (ADR 0017).
   */
  riskBudget?: RiskBudget;
}

/** Addresses (CIDRs; none means any) and TCP ports. */
export interface ApiServerEndpoints {
  cidrs: string[];
  ports: number[];
}

/** Pods of another namespace: both the namespace and the labels must match. */
export interface PeerSelector {
  namespace: string;
  podLabels: Record<string, string>;
}

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<Record<string, unknown>>;
  };
  [field: string]: unknown;
}

/** A VelozDeployment with its schema defaults applied and a name: what every builder takes. */
export type Desk = VelozDeployment & { metadata: { name: string } };
