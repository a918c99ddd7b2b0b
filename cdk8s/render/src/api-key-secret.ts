// Secret `X-gateway-api-key`: the gateways' API key when the user brings none. The value is an
// input (generated once by the operator), never made here.
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import type { SecretKeyRef } from '@veloz/api/generated/types';
import { names } from '@veloz/api/names';
import type { Desk, KubernetesObject, RenderContext } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';

/** Where the gateways read their API key: the user's Secret, else the generated one. */
export function apiKeyRef(d: Desk): SecretKeyRef {
  return d.spec.gateway.apiKeySecretRef ?? { name: names(d.metadata.name).apiKeySecret, key: 'apiKey' };
}

export function apiKeySecret(d: Desk, ctx: RenderContext): KubernetesObject {
  if (ctx.apiKey === undefined)
    throw new Error('ctx.apiKey is required when spec.gateway.apiKeySecretRef is absent');
  const apiKey = ctx.apiKey;
  return manifest(
    (scope) =>
      new k8s.KubeSecret(scope, 'api-key', {
        metadata: objectMeta(d, names(d.metadata.name).apiKeySecret, 'api-key'),
        type: 'Opaque',
        data: { apiKey: Buffer.from(apiKey, 'utf8').toString('base64') },
      }),
  );
}
