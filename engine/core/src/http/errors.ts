// Maps the engine's typed errors to HTTP answers: 422/429 carry the risk reason, 503 when the
// engine cannot take writes; the rest (schema violations, 5XX) as every VeloZ service answers.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ConflictError, NotFoundError, TooSoonError, UnavailableError } from '../engine/engine.ts';
import { InputError } from '../engine/order-input.ts';
import { StateError } from '../engine/state.ts';
import { RiskRejection } from '../risk/risk.ts';
import { baseErrorHandler } from '@veloz/common/http-errors';
import { WalUnavailableError } from '@veloz/wal/writer';

export function errorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof InputError) {
    void reply.code(400).send({ error: err.message, field: err.field });
    return;
  }
  if (err instanceof RiskRejection) {
    if (err.retryAfterMs !== undefined)
      void reply.header('Retry-After', String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))));
    void reply.code(err.reason === 'RATE_LIMIT' ? 429 : 422).send({ error: err.message, reason: err.reason });
    return;
  }
  if (err instanceof TooSoonError) {
    void reply
      .code(429)
      .header('Retry-After', String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))))
      .send({ error: err.message });
    return;
  }
  if (err instanceof NotFoundError) {
    void reply.code(404).send({ error: err.message });
    return;
  }
  if (err instanceof ConflictError || err instanceof StateError) {
    void reply.code(409).send({ error: err.message });
    return;
  }
  if (err instanceof UnavailableError || err instanceof WalUnavailableError) {
    // As the gateway's own 503: try again shortly (a WAL write failure is retried every <= 10 s).
    void reply.header('Retry-After', '1');
    void reply.code(503).send({ error: err.message });
    return;
  }
  baseErrorHandler(err, req, reply);
}
