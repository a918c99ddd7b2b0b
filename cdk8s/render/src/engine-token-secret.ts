// Secret `X-engine-token`: the desk's internal engine tokens, one key per scope (ADR 14). The
// values are inputs (generated once by the operator, then kept), never made here. Pods mount it
// as files, read again while running, and it is not in the pods' Secret hash: a rotated token
// reaches engines, gateways and backup jobs without a restart.
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import { TOKEN_SCOPES, type TokenScope } from '@veloz/api/http/credentials';
import { ENGINE_TOKEN_MOUNT, names } from '@veloz/api/names';
import { VARIABLES } from '@veloz/api/variables';
import type { Desk, KubernetesObject, RenderContext } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';

export function engineTokenSecret(d: Desk, ctx: RenderContext): KubernetesObject {
  const tokens = ctx.engineTokens;
  if (tokens === undefined) throw new Error('ctx.engineTokens is required (the desk’s engine tokens)');
  const data = Object.fromEntries(
    TOKEN_SCOPES.map((s) => [s, Buffer.from(tokens[s], 'utf8').toString('base64')]),
  );
  return manifest(
    (scope) =>
      new k8s.KubeSecret(scope, 'engine-token', {
        metadata: objectMeta(d, names(d.metadata.name).engineTokenSecret, 'engine-token'),
        type: 'Opaque',
        data,
      }),
  );
}

const FILE_VARIABLE: { readonly [S in TokenScope]: string } = {
  trading: VARIABLES.engineTokenTradingFile.name,
  admin: VARIABLES.engineTokenAdminFile.name,
  backup: VARIABLES.engineTokenBackupFile.name,
};

/**
 * The volume, mount and variables that give a container the tokens of `scopes` as files: the
 * engine all of them, a gateway only trading, a backup job only backup.
 */
export function engineTokenFiles(
  d: Desk,
  scopes: readonly TokenScope[],
): { volume: k8s.Volume; mount: k8s.VolumeMount; env: k8s.EnvVar[] } {
  return {
    volume: {
      name: 'engine-token',
      secret: {
        secretName: names(d.metadata.name).engineTokenSecret,
        items: scopes.map((s) => ({ key: s, path: s })),
        defaultMode: 0o440,
      },
    },
    mount: { name: 'engine-token', mountPath: ENGINE_TOKEN_MOUNT, readOnly: true },
    env: scopes.map((s) => ({ name: FILE_VARIABLE[s], value: `${ENGINE_TOKEN_MOUNT}/${s}` })),
  };
}
