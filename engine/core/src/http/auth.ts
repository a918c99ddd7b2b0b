// The engine's credential check (ADR 14): every route of the HTTP contract carries the scope it
// needs, and a request presents a desk token whose scope must open it. Probes, metrics and the API
// description stay open. Without any token configured (a standalone engine) only loopback clients
// are served.
import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { ROUTES, routeKey, type Scope } from '@veloz/api/http/contract';
import { ENGINE_TOKEN_HEADER, opens, TOKEN_SCOPES, type TokenScope } from '@veloz/api/http/credentials';

/** What the engine checks against: the tokens of each scope now (a file's may change), or none. */
export type EngineAuth =
  | { mode: 'tokens'; tokens: { readonly [S in TokenScope]?: { all(): readonly string[] } } }
  | { mode: 'loopback' };

const SCOPE_OF: ReadonlyMap<string, Scope> = new Map(
  Object.values(ROUTES).map((r) => [routeKey(r), r.scope]),
);

const digest = (s: string): Buffer => hash('sha256', s, 'buffer');

/** The token from `X-Veloz-Engine-Token` or `Authorization: Bearer`. */
export function presentedToken(req: FastifyRequest): string | undefined {
  const x = req.headers[ENGINE_TOKEN_HEADER];
  const own = Array.isArray(x) ? x[0] : x;
  if (own) return own.trim();
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** The route's scope; a route outside the contract (fastify's HEAD twin of a GET) as its GET. */
function scopeOf(req: FastifyRequest): Scope | undefined {
  const url = req.routeOptions.url;
  if (url === undefined) return undefined;
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  return SCOPE_OF.get(`${method} ${url}`);
}

export function authHook(auth: EngineAuth): onRequestAsyncHookHandler {
  // Digests of the tokens, computed again only when a source hands out a new list.
  const cache = new Map<TokenScope, { list: readonly string[]; digests: Buffer[] }>();
  const digestsOf = (scope: TokenScope, list: readonly string[]): Buffer[] => {
    const c = cache.get(scope);
    if (c?.list === list) return c.digests;
    const digests = list.map(digest);
    cache.set(scope, { list, digests });
    return digests;
  };
  /** The scopes of the presented token; every configured token is compared, in constant time. */
  const scopesOf = (token: string): TokenScope[] => {
    if (auth.mode !== 'tokens') return [];
    const d = digest(token);
    const found: TokenScope[] = [];
    for (const scope of TOKEN_SCOPES) {
      const source = auth.tokens[scope];
      if (!source) continue;
      let match = false;
      for (const t of digestsOf(scope, source.all())) if (timingSafeEqual(d, t)) match = true;
      if (match) found.push(scope);
    }
    return found;
  };

  return async (req: FastifyRequest, reply: FastifyReply) => {
    const url = req.routeOptions.url;
    // Unknown paths get their 404; a route without a scope in the contract is closed like admin.
    if (url === undefined) return;
    const scope = scopeOf(req) ?? 'admin';
    if (scope === 'open') return;
    if (auth.mode === 'loopback') {
      if (isLoopback(req.socket.remoteAddress)) return;
      return reply.code(401).send({
        error:
          'this engine has no VELOZ_ENGINE_TOKEN_* configured and serves only loopback clients; configure tokens to serve others',
      });
    }
    const token = presentedToken(req);
    if (!token)
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({
          error: `an engine token is required (header ${ENGINE_TOKEN_HEADER} or Authorization: Bearer)`,
        });
    const scopes = scopesOf(token);
    if (scopes.length === 0)
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'the engine token is not valid' });
    if (!scopes.some((s) => opens(s, scope)))
      return reply.code(403).send({
        error: `the engine token's scope (${scopes.join(', ')}) does not open this route: it needs ${scope}`,
      });
  };
}
