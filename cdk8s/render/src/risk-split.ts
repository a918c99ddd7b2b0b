// Desk-wide risk (issue 18, ADR 0017): the desk's limits hold for the exchange account, so each
// engine enforces an even share of them. Integer arithmetic only: a decimal limit is read as an
// integer of units at a fixed scale, divided, and rounded down; the remainder is handed to no
// engine, so the engines together never hold more than the desk may.
import type { RiskSpec } from '@veloz/api/generated/types';

/** What the limits are split into: the desk's own pairs, or every pair of its account share group. */
export interface RiskBudget {
  /** Pairs that share the budget (at least the desk's own; 0 when hibernated). */
  pairs: number;
  /** The budget: the desk's own limits, or the smallest of its share group's (operator). */
  risk: Pick<RiskSpec, 'maxOrderNotional' | 'maxOpenOrders' | 'maxPosition'>;
  orderRateLimit: number;
}

/** The share of one engine. */
export interface EngineRisk {
  maxOrderNotional: string | undefined;
  maxOpenOrders: number;
  maxPosition: string | undefined;
  orderRateLimit: number;
}

/**
 * Decimals of a split decimal limit: Binance quotes base quantities to 8 decimals, so a share of
 * 1 BTC over 3 engines is 0.33333333 rather than 0.
 */
export const SPLIT_SCALE = 8;

/** `value / parts`, rounded down at SPLIT_SCALE decimals (or the value's own, if finer). */
export function splitDecimal(value: string, parts: number): string {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(value);
  if (!m) throw new Error(`cannot split the risk limit "${value}": not a non-negative decimal`);
  if (!Number.isSafeInteger(parts) || parts < 1)
    throw new Error(`cannot split a risk limit into ${parts} parts`);
  const frac = m[2] ?? '';
  const scale = Math.max(SPLIT_SCALE, frac.length);
  const units = BigInt(m[1]! + frac.padEnd(scale, '0')) / BigInt(parts);
  const digits = units.toString().padStart(scale + 1, '0');
  const int = digits.slice(0, -scale);
  const dec = digits.slice(-scale).replace(/0+$/, '');
  return dec ? `${int}.${dec}` : int;
}

/** `value / parts` rounded down; refused below `min`, a limit the engines cannot run with. */
function splitInt(what: string, value: number, parts: number, min: number): number {
  const share = Math.floor(value / parts);
  if (share < min)
    throw new Error(
      `${what} ${value} cannot be split across ${parts} pairs: each engine needs at least ${min}; raise it or run fewer pairs`,
    );
  return share;
}

/** One engine's share of the budget. A hibernated desk (0 pairs) has nothing to split. */
export function splitRisk(b: RiskBudget): EngineRisk {
  const parts = Math.max(1, b.pairs);
  return {
    maxOrderNotional:
      b.risk.maxOrderNotional === undefined ? undefined : splitDecimal(b.risk.maxOrderNotional, parts),
    maxOpenOrders: splitInt('risk.maxOpenOrders', b.risk.maxOpenOrders, parts, 1),
    maxPosition: b.risk.maxPosition === undefined ? undefined : splitDecimal(b.risk.maxPosition, parts),
    orderRateLimit: splitInt('execution.orderRateLimit', b.orderRateLimit, parts, 1),
  };
}
