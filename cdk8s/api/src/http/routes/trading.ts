// Halting and resuming all new orders.
import { route } from '../route.ts';
import { haltBody, haltResponse } from '../schemas.ts';
import { bodyErrors } from './errors.ts';

export const TRADING_ROUTES = {
  halt: route({
    method: 'POST',
    url: '/api/trading/halt',
    summary: 'Halt trading: every new order is rejected (422 TRADING_HALTED)',
    tag: 'trading',
    scope: 'admin',
    body: haltBody,
    bodyRequired: false,
    responses: {
      200: { description: 'Halted, with the reason given.', schema: haltResponse },
      ...bodyErrors,
    },
  }),
  resume: route({
    method: 'POST',
    url: '/api/trading/resume',
    summary: 'Resume trading after a halt',
    tag: 'trading',
    scope: 'admin',
    responses: { 200: { description: 'Trading again.', schema: haltResponse } },
  }),
} as const;
