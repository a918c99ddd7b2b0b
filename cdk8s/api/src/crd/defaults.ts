// Structural defaulting as the API server does it: a missing field with a default gets a copy of
// it, then defaulting continues inside (so `default: {}` on a parent fills in its children).
import type { Schema } from './schema.ts';

export function applyDefaults<T>(schema: Schema, value: T): T {
  return fill(schema, structuredClone(value)) as T;
}

function fill(schema: Schema, value: unknown): unknown {
  if (Array.isArray(value)) return schema.items ? value.map((v) => fill(schema.items!, v)) : value;
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    if (obj[key] === undefined && child.default !== undefined) obj[key] = structuredClone(child.default);
    if (obj[key] !== undefined) obj[key] = fill(child, obj[key]);
  }
  if (typeof schema.additionalProperties === 'object') {
    for (const key of Object.keys(obj)) obj[key] = fill(schema.additionalProperties, obj[key]);
  }
  return obj;
}
