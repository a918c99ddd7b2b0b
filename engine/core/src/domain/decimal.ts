// Exact conversion between decimal strings (the API's representation, like Binance's) and
// scaled integers (the engine's). Nothing in the order path ever touches a float.

const DECIMAL = /^(\d{1,20})(?:\.(\d{1,18}))?$/;

export class DecimalError extends Error {}

/** Parses `text` into an integer count of 10^-decimals units; throws when it has more precision. */
export function parseScaled(text: string, decimals: number): bigint {
  const m = DECIMAL.exec(text);
  if (!m) throw new DecimalError(`"${text}" is not a non-negative decimal number`);
  const whole = m[1]!;
  const frac = (m[2] ?? '').replace(/0+$/, '');
  if (frac.length > decimals) {
    throw new DecimalError(`"${text}" has more than ${decimals} decimal places`);
  }
  return BigInt(whole + frac.padEnd(decimals, '0'));
}

/** Like parseScaled, but the result must be a safe integer (prices in ticks, quantities in steps). */
export function parseScaledInt(text: string, decimals: number): number {
  const v = parseScaled(text, decimals);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecimalError(`"${text}" is too large`);
  return Number(v);
}

export function formatScaled(value: bigint | number, decimals: number): string {
  const v = BigInt(value);
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const frac = digits.slice(digits.length - decimals);
  return `${neg ? '-' : ''}${whole}${decimals > 0 ? `.${frac}` : ''}`;
}
