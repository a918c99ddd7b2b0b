// Which engine token opens which route (ADR 14): the one place the scopes of the HTTP contract
// meet the desk's tokens, so the engine's check and the documentation cannot disagree.
import type { Scope } from './route.ts';

/** The scopes a token can carry: every route scope but open. */
export type TokenScope = Exclude<Scope, 'open'>;

export const TOKEN_SCOPES: readonly TokenScope[] = ['trading', 'admin', 'backup'];

/**
 * The routes each token scope opens. Admin includes trading: the operator reads strategies and
 * positions as well as changing them. Backup opens only the WAL snapshot, and no other token
 * opens that one: it holds the whole order history.
 */
export const OPENS: { readonly [S in TokenScope]: readonly Scope[] } = {
  trading: ['trading'],
  admin: ['admin', 'trading'],
  backup: ['backup'],
};

/** Whether a token of scope `token` may call a route of scope `route`. */
export function opens(token: TokenScope, route: Scope): boolean {
  return route === 'open' || OPENS[token].includes(route);
}

/**
 * The header internal callers send their token in. `Authorization: Bearer` is accepted too, but
 * the API server's pod proxy (the operator's path from outside a cluster) strips that header.
 */
export const ENGINE_TOKEN_HEADER = 'x-veloz-engine-token';
