// Maps the engine's typed errors to HTTP answers: 400 names the field, 422/429 carry the risk
// reason, 503 when the engine cannot take writes. Nothing is swallowed: 5XX are logged.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ConflictError, NotFoundError, UnavailableError } from '../engine/engine.ts';
import { InputError } from '../engine/order-input.ts';
import { StateError } from '../engine/state.ts';
import { RiskRejection } from '../risk/risk.ts';
import { WalUnavailableError } from '../wal/writer.ts';

function validationField(err: FastifyError): string | undefined {
  const v = err.validation?.[0];
  if (!v) return undefined;
  const missing = (v.params as { missingProperty?: string; additionalProperty?: string } | undefined) ?? {};
  const path = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const leaf = missing.missingProperty ?? missing.additionalProperty;
  return [path, leaf].filter(Boolean).join('.') || undefined;
}

export function errorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  if (err.validation) {
    const field = validationField(err);
    const ctx = err.validationContext ?? 'body';
    const v = err.validation[0];
    const what = v?.keyword === 'required' ? 'is required' : (v?.message ?? 'is invalid');
    void reply.code(400).send({ error: `${ctx}${field ? `.${field}` : ''} ${what}`, field: field ?? ctx });
    return;
  }
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
  if (err instanceof NotFoundError) {
    void reply.code(404).send({ error: err.message });
    return;
  }
  if (err instanceof ConflictError || err instanceof StateError) {
    void reply.code(409).send({ error: err.message });
    return;
  }
  if (err instanceof UnavailableError || err instanceof WalUnavailableError) {
    void reply.code(503).send({ error: err.message });
    return;
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    void reply.code(err.statusCode).send({ error: err.message });
    return;
  }
  req.log.error({ err }, 'request failed');
  void reply.code(500).send({ error: 'internal error' });
}
