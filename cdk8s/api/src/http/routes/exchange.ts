// What the engine found when it last compared its WAL with the exchange.
import { route } from '../route.ts';
import { reconciliationResponse } from '../schemas.ts';

export const EXCHANGE_ROUTES = {
  reconciliation: route({
    method: 'GET',
    url: '/api/exchange/reconciliation',
    summary: 'The last reconciliation with the exchange: differences found, repaired and open',
    description:
      'Open orders, recent trades and balances are compared with the WAL at start and every VELOZ_RECONCILE_INTERVAL. What the exchange says is repaired into the WAL; what cannot be repaired stays open and halts new orders until trading is resumed.',
    tag: 'exchange',
    // A read the desk's gateways serve to API-key holders; the operator's admin token opens it too.
    scope: 'trading',
    responses: { 200: { description: 'The last run and what it found.', schema: reconciliationResponse } },
  }),
} as const;
