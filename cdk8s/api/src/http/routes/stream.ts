// The engine's events as server-sent events.
import { route } from '../route.ts';
import { streamHeaders, streamQuery, textBody } from '../schemas.ts';

export const STREAM_ROUTES = {
  stream: route({
    method: 'GET',
    url: '/api/stream',
    summary: 'Engine events (orders, fills, strategies, system) as server-sent events',
    description:
      'Each event has an `id`; reconnect with `Last-Event-ID` (or `?lastEventId=`) to get what was missed, or a `reset` event when it is no longer buffered. Comments (`: heartbeat`) keep idle connections open.',
    tag: 'stream',
    scope: 'trading',
    querystring: streamQuery,
    headers: streamHeaders,
    responses: {
      200: { description: 'An endless event stream.', schema: textBody, mediaType: 'text/event-stream' },
    },
  }),
} as const;
