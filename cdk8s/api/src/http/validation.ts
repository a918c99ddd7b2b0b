// How engine and gateway check a request against the contract's schemas. A JSON body is taken
// as sent: no type coercion, so `["0.010"]`, `0.01` or `true` where the contract says a string is
// a 400 naming the field, not a guess at what was meant. Path parameters, query strings and
// headers are text on the wire and are read as the schema's type (`limit=10` as an integer);
// an order id stays text with a digits-only pattern, so `1e3` is refused there too.
import { Ajv, type ValidateFunction } from 'ajv';

/** The part of a request a schema is for, as fastify names it. */
export interface SchemaDefinition {
  schema: unknown;
  httpPart?: string;
}

const common = { removeAdditional: false, useDefaults: true, allErrors: false, strict: false } as const;

/** A fastify validator compiler: `app.setValidatorCompiler(requestValidatorCompiler())`. */
export function requestValidatorCompiler(): (def: SchemaDefinition) => ValidateFunction {
  const body = new Ajv({ ...common, coerceTypes: false });
  const text = new Ajv({ ...common, coerceTypes: 'array' });
  return ({ schema, httpPart }) => (httpPart === 'body' ? body : text).compile(schema as object);
}
