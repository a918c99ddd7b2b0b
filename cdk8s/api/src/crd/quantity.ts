// Kubernetes resource quantities (`1Gi`, `500m`, `1e3`), enough to compare and convert them.
import { QUANTITY_PATTERN } from './schema.ts';

const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = new RegExp(QUANTITY_PATTERN);

/** The value of a quantity as a number (exact for byte sizes below 2^53). */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  if (!QUANTITY.test(q)) throw new Error(`invalid quantity ${JSON.stringify(q)}`);
  const m = /^([+-]?[0-9.]+)(.*)$/.exec(q)!;
  const [, num, suffix] = m as unknown as [string, string, string];
  if (suffix.startsWith('e') || suffix.startsWith('E')) return Number(num + suffix);
  return Number(num) * SUFFIX[suffix]!;
}
