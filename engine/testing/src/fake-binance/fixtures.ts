// Sample answers from the official Binance Spot API documentation (fixtures/*.json, each naming
// the doc file and section it comes from), and a comparison of shapes: the fake's answers must
// have the same fields with the same JSON types, and the engine's parsers must accept them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Fixture {
  source: { file: string; section: string; note?: string };
  answer: unknown;
}

export function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', `${name}.json`), 'utf8')) as Fixture;
}

/**
 * Fields rest-api.md lists under "Conditional fields in Order Responses": they appear only when
 * the order has what they describe, so one side may lack them.
 */
export const CONDITIONAL_FIELDS: ReadonlySet<string> = new Set([
  'icebergQty',
  'preventedMatchId',
  'preventedQuantity',
  'stopPrice',
  'strategyId',
  'strategyType',
  'trailingDelta',
  'trailingTime',
  'usedSor',
  'workingFloor',
  'pegPriceType',
  'pegOffsetType',
  'pegOffsetValue',
  'peggedPrice',
  'expiryReason',
]);

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/**
 * Where `actual` differs in shape from `expected`: a field missing or extra, or of another JSON
 * type (arrays compare their first elements). Empty when the shapes agree.
 */
export function shapeDifferences(actual: unknown, expected: unknown, path = ''): string[] {
  const ka = kind(actual);
  const ke = kind(expected);
  if (ke === 'null') return [];
  if (ka !== ke) return [`${path || '/'}: ${ka} instead of ${ke}`];
  if (ke === 'array') {
    const a = actual as unknown[];
    const e = expected as unknown[];
    if (e.length === 0 || a.length === 0) return [];
    return shapeDifferences(a[0], e[0], `${path}[0]`);
  }
  if (ke !== 'object') return [];
  const a = actual as Record<string, unknown>;
  const e = expected as Record<string, unknown>;
  const out: string[] = [];
  for (const k of Object.keys(e))
    if (!(k in a)) {
      if (!CONDITIONAL_FIELDS.has(k)) out.push(`${path}.${k}: missing`);
    } else out.push(...shapeDifferences(a[k], e[k], `${path}.${k}`));
  for (const k of Object.keys(a))
    if (!(k in e) && !CONDITIONAL_FIELDS.has(k)) out.push(`${path}.${k}: not in the docs`);
  return out;
}
