// PodDisruptionBudget `X-engine`: one voluntary engine disruption at a time.
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import { names, selectorLabels } from '@veloz/api/names';
import type { Desk, KubernetesObject } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';

export function enginePdb(d: Desk): KubernetesObject {
  return manifest(
    (scope) =>
      new k8s.KubePodDisruptionBudget(scope, 'pdb', {
        metadata: objectMeta(d, names(d.metadata.name).engine, 'engine'),
        spec: {
          maxUnavailable: k8s.IntOrString.fromNumber(1),
          selector: { matchLabels: selectorLabels(d.metadata.name, 'engine') },
        },
      }),
  );
}
