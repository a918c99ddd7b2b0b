// Halting and resuming all new orders.
import { route } from '../route.ts';
import { haltBody, haltResponse } from '../schemas.ts';
import { bodyErrors, unavailable } from './errors.ts';

export const TRADING_ROUTES = {
  halt: route({
    method: 'POST',
    url: '/api/trading/halt',
    summary: 'Halt trading: every new order is rejected (422 TRADING_HALTED)',
    description:
      'The body `{"reason": "..."}` may be left out. The halt is a WAL record: it holds across restarts until resumed.',
    tag: 'trading',
    scope: 'admin',
    body: haltBody,
    bodyRequired: false,
    responses: {
      200: { description: 'Halted, with the reason given.', schema: haltResponse },
      ...bodyErrors,
      503: unavailable,
    },
  }),
  resume: route({
    method: 'POST',
    url: '/api/trading/resume',
    summary: 'Resume trading after a halt',
    description: 'The body `{"reason": "..."}` may be left out; the reason is kept in the WAL.',
    tag: 'trading',
    scope: 'admin',
    body: haltBody,
    bodyRequired: false,
    responses: {
      200: { description: 'Trading again.', schema: haltResponse },
      ...bodyErrors,
      503: unavailable,
    },
  }),
} as const;
