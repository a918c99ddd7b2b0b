// What the gateway does with each route of the engine's HTTP contract. The type names every
// route, so a route added to the contract does not compile until it is decided here, and the
// route test checks that the gateway registers exactly what this says.
import type { RouteId } from '@veloz/api/http/contract';

/**
 * proxy: forwarded to the engine with the engine's schemas, behind the API key;
 * own: answered by the gateway itself, with the same contract (its own health, readiness,
 *   metrics and API description; the event stream fanned out from its one engine stream);
 * hidden: not served through the gateway (a 404 with a key).
 */
export type Exposure = 'proxy' | 'own' | 'hidden';

export const EXPOSURE: { readonly [K in RouteId]: Exposure } = {
  health: 'own',
  ready: 'own',
  metrics: 'own',
  openapi: 'own',
  placeOrder: 'proxy',
  getOrder: 'proxy',
  getOrderByClientId: 'proxy',
  cancelOrder: 'proxy',
  ordersState: 'proxy',
  positions: 'proxy',
  listStrategies: 'proxy',
  getStrategy: 'proxy',
  // The engine's admin scope (ADR 14): strategies are changed through VelozStrategy resources,
  // halts and checkpoints by the operator or an operator's `kubectl`; the gateway holds only a
  // trading token, so an API key does not open them.
  putStrategy: 'hidden',
  deleteStrategy: 'hidden',
  halt: 'hidden',
  resume: 'hidden',
  walStatus: 'hidden',
  walCheckpoint: 'hidden',
  // The backup job reads each engine directly (it needs that engine's WAL, not whichever engine a
  // client's gateway fronts), and a snapshot holds every order: not for API-key holders.
  walBackup: 'hidden',
  stream: 'own',
  reconciliation: 'proxy',
};

/** Served without an API key: probes, scrapers and the API description. */
export const OPEN: ReadonlySet<RouteId> = new Set(['health', 'ready', 'metrics', 'openapi']);
