// ServiceAccount `X`: engines, gateways and backup jobs need no API access, so no token.
import * as kplus from 'cdk8s-plus-27';
import { names } from '@veloz/api/names';
import type { Desk, KubernetesObject } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';

export function serviceAccount(d: Desk): KubernetesObject {
  return manifest(
    (scope) =>
      new kplus.ServiceAccount(scope, 'service-account', {
        metadata: objectMeta(d, names(d.metadata.name).serviceAccount, 'service-account'),
        automountToken: false,
      }),
  );
}
