// The contract's routes as the gateway serves them: its own health answer, and the answers it
// adds in front of the engine (no key, its rate limit, the engine unreachable).
import { errorSchema } from '@veloz/api/http/schemas';
import { ROUTES, type RouteId, type Route } from '@veloz/api/http/contract';
import { EXPOSURE, OPEN } from './exposure.ts';

export const gatewayHealthSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'role', 'engine', 'streaming'],
  properties: {
    status: { type: 'string', const: 'ok' },
    role: { type: 'string', const: 'gateway' },
    engine: { type: 'string', description: 'the engine it fronts: its URL, or the stdio child and its pid' },
    streaming: { type: 'boolean', description: 'whether the engine’s event stream is connected' },
  },
} as const;

const unauthorized = {
  description: 'No API key, or not a valid one (`Authorization: Bearer KEY` or `X-API-Key: KEY`).',
  schema: errorSchema,
  headers: { 'WWW-Authenticate': { description: 'Bearer', schema: { type: 'string' } } },
} as const;
const rateLimited = {
  description: 'The gateway’s per-key rate limit (`reason` GATEWAY_RATE_LIMIT).',
  schema: errorSchema,
  headers: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' } } },
} as const;
const engineUnavailable = {
  description: 'The engine did not answer (`reason` ENGINE_UNAVAILABLE).',
  schema: errorSchema,
  headers: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' } } },
} as const;

type Answers = Route['responses'];

/** `more` added to `answers`; a status both have gets both descriptions. */
function withAnswers(answers: Answers, more: Answers): Answers {
  const out: Record<number, Answers[number]> = { ...answers };
  for (const [status, a] of Object.entries(more)) {
    const had = answers[Number(status)];
    out[Number(status)] = had ? { ...had, description: `${had.description} Or: ${a.description}` } : a;
  }
  return out;
}

function gatewayRoute(id: RouteId, r: Route): Route {
  if (id === 'health')
    return {
      ...r,
      responses: { 200: { description: 'Alive, with its engine.', schema: gatewayHealthSchema } },
    };
  if (OPEN.has(id)) return r;
  const more: Answers =
    EXPOSURE[id] === 'proxy'
      ? { 401: unauthorized, 429: rateLimited, 503: engineUnavailable }
      : { 401: unauthorized, 429: rateLimited };
  return { ...r, responses: withAnswers(r.responses, more) };
}

/** Every route the gateway serves, by operation id, as it serves it. */
export const GATEWAY_ROUTES: Readonly<Record<string, Route>> = Object.fromEntries(
  (Object.entries(ROUTES) as Array<[RouteId, Route]>)
    .filter(([id]) => EXPOSURE[id] !== 'hidden')
    .map(([id, r]) => [id, gatewayRoute(id, r)]),
);

/** The route `id` as the gateway serves it; throws for a route it does not. */
export function gatewayRouteOf(id: RouteId): Route {
  const r = GATEWAY_ROUTES[id];
  if (!r) throw new Error(`the gateway does not serve ${id}`);
  return r;
}
