// Typed, validated strategy parameters; a bad one names its field (params.NAME).
import { DecimalError, parseScaledInt } from '../domain/decimal.ts';
import type { Instrument } from '../domain/instrument.ts';
import { InputError } from '../engine/order-input.ts';

export function intParam(
  p: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
  dflt?: number,
): number {
  const v = p[name] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InputError(`params.${name}`, `params.${name} must be an integer from ${min} to ${max}`);
  }
  return v;
}

function decimalParam(
  p: Record<string, unknown>,
  name: string,
  decimals: number,
  optional: boolean,
): number | undefined {
  const v = p[name];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string')
    throw new InputError(`params.${name}`, `params.${name} must be a decimal string such as "10.5"`);
  try {
    const n = parseScaledInt(v, decimals);
    if (n <= 0) throw new DecimalError('must be greater than zero');
    return n;
  } catch (err) {
    if (err instanceof DecimalError) throw new InputError(`params.${name}`, `params.${name}: ${err.message}`);
    throw err;
  }
}

export function priceParam(p: Record<string, unknown>, name: string, inst: Instrument): number {
  const v = decimalParam(p, name, inst.priceDecimals, false)!;
  if (v % inst.tickSize !== 0)
    throw new InputError(`params.${name}`, `params.${name} is not a multiple of the tick size`);
  return v;
}

export function optionalPriceParam(
  p: Record<string, unknown>,
  name: string,
  inst: Instrument,
): number | undefined {
  return p[name] === undefined ? undefined : priceParam(p, name, inst);
}

export function qtyParam(p: Record<string, unknown>, name: string, inst: Instrument): number {
  const v = decimalParam(p, name, inst.qtyDecimals, false)!;
  if (v % inst.stepSize !== 0)
    throw new InputError(`params.${name}`, `params.${name} is not a multiple of the step size`);
  return v;
}

export function rejectUnknown(p: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(p)) {
    if (!known.includes(k))
      throw new InputError(`params.${k}`, `unknown parameter params.${k}; accepted: ${known.join(', ')}`);
  }
}
