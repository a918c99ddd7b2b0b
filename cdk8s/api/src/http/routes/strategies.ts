// Strategies the engine runs, pushed by the operator from VelozStrategy resources.
import { errorAnswer, route } from '../route.ts';
import { strategiesResponse, strategyBody, strategyNameParams, strategySchema } from '../schemas.ts';
import { badRequest, bodyErrors, unavailable } from './errors.ts';

const notFound = errorAnswer('No strategy has this name.');
const strategyLinks = {
  GetStrategy: { operationId: 'getStrategy', parameters: { name: '$request.path.name' } },
  DeleteStrategy: { operationId: 'deleteStrategy', parameters: { name: '$request.path.name' } },
} as const;

// Reading is for traders; writing is the operator's, which syncs the VelozStrategy resources.
export const STRATEGY_ROUTES = {
  listStrategies: route({
    method: 'GET',
    url: '/api/strategies',
    summary: 'Every strategy and its state',
    tag: 'strategies',
    scope: 'trading',
    responses: {
      200: { description: 'The strategies.', schema: strategiesResponse },
      503: unavailable,
    },
  }),
  getStrategy: route({
    method: 'GET',
    url: '/api/strategies/:name',
    summary: 'One strategy and its state',
    tag: 'strategies',
    scope: 'trading',
    params: strategyNameParams,
    responses: {
      200: { description: 'The strategy.', schema: strategySchema },
      400: badRequest,
      404: notFound,
      503: unavailable,
    },
  }),
  putStrategy: route({
    method: 'PUT',
    url: '/api/strategies/:name',
    summary: 'Create or update a strategy (idempotent by version)',
    description:
      'The same version with the same spec changes nothing (200); a higher version replaces it; an older version, or the same version with another spec, is refused (409). `enabled: false` pauses it and cancels its open orders.',
    tag: 'strategies',
    scope: 'admin',
    params: strategyNameParams,
    body: strategyBody,
    responses: {
      200: {
        description: 'The strategy, updated or unchanged.',
        schema: strategySchema,
        links: strategyLinks,
      },
      201: { description: 'The new strategy.', schema: strategySchema, links: strategyLinks },
      ...bodyErrors,
      409: errorAnswer('The version is older than the engine’s, or the same with another spec.'),
      503: unavailable,
    },
  }),
  deleteStrategy: route({
    method: 'DELETE',
    url: '/api/strategies/:name',
    summary: 'Stop and remove a strategy, cancelling its open orders',
    tag: 'strategies',
    scope: 'admin',
    params: strategyNameParams,
    responses: {
      200: { description: 'The strategy as it was removed.', schema: strategySchema },
      400: badRequest,
      404: notFound,
      503: unavailable,
    },
  }),
} as const;
