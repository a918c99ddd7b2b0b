// A small builder for structural OpenAPI v3 schemas. The CRDs, the TypeScript types and the API
// reference are all generated from what these builders return, so every field is declared once.

export interface Validation {
  rule: string;
  message: string;
  /** Where the error is reported, e.g. `.credentialsSecretRef` (defaults to the rule's field). */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  enum?: readonly (string | number)[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  pattern?: string;
  format?: string;
  anyOf?: Schema[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: Validation[];
}

/** Names given to object schemas become named TypeScript interfaces in the generated types. */
export const TYPE_NAMES = new WeakMap<Schema, string>();

export function named<S extends Schema>(name: string, s: S): S {
  TYPE_NAMES.set(s, name);
  return s;
}

type Extra = Omit<Schema, 'type' | 'description' | 'properties' | 'items'>;

export function str(description: string, extra: Extra = {}): Schema {
  return { type: 'string', description, ...extra };
}

export function int(description: string, extra: Extra = {}): Schema {
  return { type: 'integer', description, ...extra };
}

export function bool(description: string, extra: Extra = {}): Schema {
  return { type: 'boolean', description, ...extra };
}

export function list(description: string, items: Schema, extra: Extra = {}): Schema {
  return { type: 'array', description, items, ...extra };
}

export function obj(description: string, properties: Record<string, Schema>, extra: Extra = {}): Schema {
  return { type: 'object', description, properties, ...extra };
}

export function stringMap(description: string, extra: Extra = {}): Schema {
  return {
    type: 'object',
    description,
    additionalProperties: { type: 'string', maxLength: 1024 },
    maxProperties: 64,
    ...extra,
  };
}

export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

/** A Kubernetes quantity written as a string (`1Gi`, `500m`). */
export function quantity(description: string, extra: Extra = {}): Schema {
  return str(description, { pattern: QUANTITY_PATTERN, maxLength: 32, ...extra });
}

/** A Kubernetes quantity as the core API accepts it: a number or a string such as `500m`. */
export function intOrStringQuantity(description: string, extra: Extra = {}): Schema {
  return {
    description,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    pattern: QUANTITY_PATTERN,
    'x-kubernetes-int-or-string': true,
    ...extra,
  };
}

export const DECIMAL_PATTERN = '^\\d{1,20}(\\.\\d{1,18})?$';

/** A non-negative decimal as a string, like the engine's API (no floats in the order path). */
export function decimal(description: string, extra: Extra = {}): Schema {
  return str(description, { pattern: DECIMAL_PATTERN, maxLength: 40, ...extra });
}

export const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** The name of an object in the same namespace. */
export function objectName(description: string, extra: Extra = {}): Schema {
  return str(description, { minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN_PATTERN, ...extra });
}

export const SECRET_KEY_PATTERN = '^[-._a-zA-Z0-9]+$';

export function secretKey(description: string, dflt: string): Schema {
  return str(description, { minLength: 1, maxLength: 253, pattern: SECRET_KEY_PATTERN, default: dflt });
}

/** metav1.Condition, as the status of every built-in controller reports it. */
export function conditions(types: readonly string[]): Schema {
  return list(
    `Detailed conditions, each with a reason and message. Types: ${types.join(', ')} (their reasons: docs/conditions.md).`,
    named(
      'Condition',
      obj(
        'One aspect of the observed state.',
        {
          type: str('Condition type (one per list).', { maxLength: 316 }),
          status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
          observedGeneration: int('The .metadata.generation the condition was set for.', {
            minimum: 0,
            format: 'int64',
          }),
          lastTransitionTime: str('When the status last changed.', { format: 'date-time' }),
          reason: str('CamelCase reason for the last transition, stable across releases.', {
            maxLength: 1024,
          }),
          message: str('Human-readable details.', { maxLength: 32768 }),
        },
        { required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'] },
      ),
    ),
    {
      maxItems: 16,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    },
  );
}

/** Walks a schema depth-first, calling `visit` with each field's dotted path. */
export function walk(schema: Schema, visit: (path: string, s: Schema) => void, path = ''): void {
  visit(path, schema);
  for (const [k, child] of Object.entries(schema.properties ?? {})) walk(child, visit, `${path}.${k}`);
  if (schema.items) walk(schema.items, visit, `${path}[]`);
  if (typeof schema.additionalProperties === 'object') walk(schema.additionalProperties, visit, `${path}.*`);
}
