// Checks an HTTP answer against the engine's contract: its status is one the route lists, and a
// JSON body matches that status's schema. An independent JSON Schema 2020-12 validator, not the
// fastify serializer that wrote the answer.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Route } from '@veloz/api/http/contract';

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv);

/** Why the answer does not match `r`, or [] when it does. */
export function contractViolations(
  r: Route,
  status: number,
  contentType: string | undefined,
  body: string,
): string[] {
  const answer = r.responses[status];
  if (!answer) return [`${r.method} ${r.url} does not list status ${status}`];
  const mediaType = answer.mediaType ?? 'application/json';
  if (!(contentType ?? '').startsWith(mediaType.split(';')[0]!))
    return [`${r.method} ${r.url} ${status}: content type ${contentType}, not ${mediaType}`];
  if (!mediaType.startsWith('application/json')) return [];
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return [`${r.method} ${r.url} ${status}: the body is not JSON`];
  }
  const validate = ajv.compile(answer.schema as object);
  if (validate(value)) return [];
  return (validate.errors ?? []).map(
    (e) =>
      `${r.method} ${r.url} ${status}: ${e.instancePath || 'body'} ${e.message ?? 'is invalid'} (${JSON.stringify(e.params)})`,
  );
}
