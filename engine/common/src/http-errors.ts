// The error answers every VeloZ HTTP service shares: a schema violation is 400 naming the field,
// another client error keeps its status, anything else is a logged 500 that leaks nothing.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

function validationField(err: FastifyError): string | undefined {
  const v = err.validation?.[0];
  if (!v) return undefined;
  const missing = (v.params as { missingProperty?: string; additionalProperty?: string } | undefined) ?? {};
  const path = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const leaf = missing.missingProperty ?? missing.additionalProperty;
  return [path, leaf].filter(Boolean).join('.') || undefined;
}

export function baseErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  if (err.validation) {
    const field = validationField(err);
    const ctx = err.validationContext ?? 'body';
    const v = err.validation[0];
    const what = v?.keyword === 'required' ? 'is required' : (v?.message ?? 'is invalid');
    void reply.code(400).send({ error: `${ctx}${field ? `.${field}` : ''} ${what}`, field: field ?? ctx });
    return;
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    void reply.code(err.statusCode).send({ error: err.message });
    return;
  }
  req.log.error({ err }, 'request failed');
  void reply.code(500).send({ error: 'internal error' });
}
