// ConfigMap `X-config`: the non-secret VELOZ_* settings of engines and gateways (config.ts).
import * as kplus from 'cdk8s-plus-27';
import { names } from '@veloz/api/names';
import { configData } from './config.ts';
import type { Desk, KubernetesObject, RenderContext } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';

export function configMap(d: Desk, ctx: Pick<RenderContext, 'riskBudget'> = {}): KubernetesObject {
  return manifest(
    (scope) =>
      new kplus.ConfigMap(scope, 'config', {
        metadata: objectMeta(d, names(d.metadata.name).config, 'config'),
        data: configData(d.spec, ctx.riskBudget),
      }),
  );
}
