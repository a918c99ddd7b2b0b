// The engine tokens the operator keeps for each desk (Secret `X-engine-token`, ADR 14): generated
// once, then read back from the cache, so a token someone rotated is never replaced; and the admin
// token the operator presents to an engine, read at each call, so a rotation reaches it at once.
import { TOKEN_SCOPES, type TokenScope } from '@veloz/api/http/credentials';
import { names } from '@veloz/api/names';
import { splitTokens } from '@veloz/common/tokens';
import type { ObjectCache } from './cache.ts';
import type { EngineToken } from './engine-access.ts';
import { RESOURCES } from './kube/resources.ts';

const decode = (data: Record<string, string> | undefined, key: string): string | undefined => {
  const v = data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
};

/** The desk's tokens as kept in its Secret, a new one (from `generate`) for each scope without. */
export function deskTokens(
  cache: ObjectCache,
  namespace: string,
  deployment: string,
  generate: () => string,
): { [S in TokenScope]: string } {
  const s = cache.get(RESOURCES.secret, namespace, names(deployment).engineTokenSecret);
  const out = {} as { [S in TokenScope]: string };
  for (const scope of TOKEN_SCOPES) {
    const kept = decode(s?.data, scope);
    out[scope] = kept && splitTokens(kept).length > 0 ? kept : generate();
  }
  return out;
}

const ENGINE_POD = /^(.+)-engine-\d+$/;

/** The admin token for an engine pod, from the Secret of the desk its name says it belongs to. */
export function adminToken(cache: ObjectCache): EngineToken {
  return (namespace, pod) => {
    const x = ENGINE_POD.exec(pod)?.[1];
    if (!x) return undefined;
    const s = cache.get(RESOURCES.secret, namespace, names(x).engineTokenSecret);
    return splitTokens(decode(s?.data, 'admin'))[0];
  };
}
