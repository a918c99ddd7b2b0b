// Metadata every owned object carries: its fixed name, the stable labels, and the owner reference
// to the VelozDeployment (when it has a uid: a CR read from a file has none).
import type * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import { API_VERSION } from '@veloz/api/crd/crds';
import { labels } from '@veloz/api/names';
import type { Component } from '@veloz/api/names';
import type { Desk } from './context.ts';

export interface MetaOptions {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** false: not owned, so it outlives the deployment. */
  owned?: boolean;
}

export function objectMeta(
  d: Desk,
  name: string,
  component: Component,
  opts: MetaOptions = {},
): k8s.ObjectMeta {
  return {
    name,
    namespace: d.metadata.namespace,
    labels: labels(d.metadata.name, component, opts.labels),
    annotations: opts.annotations && Object.keys(opts.annotations).length > 0 ? opts.annotations : undefined,
    ownerReferences: opts.owned === false ? undefined : ownerReferences(d),
  };
}

function ownerReferences(d: Desk): k8s.OwnerReference[] | undefined {
  if (!d.metadata.uid) return undefined;
  return [
    {
      apiVersion: API_VERSION,
      kind: 'VelozDeployment',
      name: d.metadata.name,
      uid: d.metadata.uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
}
