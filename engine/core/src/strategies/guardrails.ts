// Strategy guardrails (ADR 0020): limits that, once crossed, stop the strategy for good, until a
// newer version of it asks for a resume. Money limits are integers in notional units (price
// decimals + quantity decimals), like the positions they are compared with; a ratio is kept in
// parts per million so that its comparison is integer arithmetic too.
import { DecimalError, formatScaled, parseScaled } from '../domain/decimal.ts';
import { formatNotional, type Instrument } from '../domain/instrument.ts';
import { InputError } from '../engine/order-input.ts';

export const GUARDRAILS = [
  'maxLoss',
  'maxDrawdown',
  'maxRejectRatio',
  'maxOrdersPerMinute',
  'staleMarketDataSeconds',
] as const;
export type Guardrail = (typeof GUARDRAILS)[number];

/** The guardrails as the HTTP API carries them. */
export interface StrategyGuardrails {
  maxLoss?: string | undefined;
  maxDrawdown?: string | undefined;
  maxRejectRatio?: { ratio: number; windowSeconds: number; minOrders?: number | undefined } | undefined;
  maxOrdersPerMinute?: number | undefined;
  staleMarketDataSeconds?: number | undefined;
}

export interface ParsedGuardrails {
  maxLoss?: { limit: bigint; text: string };
  maxDrawdown?: { limit: bigint; text: string };
  maxRejectRatio?: { ppm: number; text: string; windowMs: number; minOrders: number };
  maxOrdersPerMinute?: number;
  staleMarketDataMs?: number;
}

/** What crossed: the guardrail, the value that crossed it and the limit, as the API shows them. */
export interface Crossing {
  guardrail: Guardrail;
  value: string;
  limit: string;
  reason: string;
}

const PPM = 1_000_000;
const MINUTE_MS = 60_000;
/** Fewer attempts than this in the window say nothing about a reject ratio. */
export const DEFAULT_MIN_ORDERS = 10;

function money(g: StrategyGuardrails, name: 'maxLoss' | 'maxDrawdown', inst: Instrument) {
  const text = g[name];
  if (text === undefined) return undefined;
  try {
    const limit = parseScaled(text, inst.priceDecimals + inst.qtyDecimals);
    if (limit <= 0n) throw new DecimalError('must be greater than zero');
    return { limit, text };
  } catch (err) {
    if (err instanceof DecimalError)
      throw new InputError(`guardrails.${name}`, `guardrails.${name} (quote currency): ${err.message}`);
    throw err;
  }
}

/** Validates the guardrails of one strategy against its instrument; a bad one names its field. */
export function parseGuardrails(g: StrategyGuardrails, inst: Instrument): ParsedGuardrails {
  const out: ParsedGuardrails = {};
  const loss = money(g, 'maxLoss', inst);
  if (loss) out.maxLoss = loss;
  const dd = money(g, 'maxDrawdown', inst);
  if (dd) out.maxDrawdown = dd;
  const r = g.maxRejectRatio;
  if (r) {
    if (typeof r.ratio !== 'number' || !(r.ratio >= 0 && r.ratio <= 1))
      throw new InputError(
        'guardrails.maxRejectRatio.ratio',
        'guardrails.maxRejectRatio.ratio must be from 0 to 1',
      );
    if (!Number.isInteger(r.windowSeconds) || r.windowSeconds < 1)
      throw new InputError(
        'guardrails.maxRejectRatio.windowSeconds',
        'guardrails.maxRejectRatio.windowSeconds must be a positive integer',
      );
    const minOrders = r.minOrders ?? DEFAULT_MIN_ORDERS;
    if (!Number.isInteger(minOrders) || minOrders < 1)
      throw new InputError(
        'guardrails.maxRejectRatio.minOrders',
        'guardrails.maxRejectRatio.minOrders must be a positive integer',
      );
    out.maxRejectRatio = {
      ppm: Math.round(r.ratio * PPM),
      text: String(r.ratio),
      windowMs: r.windowSeconds * 1000,
      minOrders,
    };
  }
  if (g.maxOrdersPerMinute !== undefined) {
    if (!Number.isInteger(g.maxOrdersPerMinute) || g.maxOrdersPerMinute < 1)
      throw new InputError(
        'guardrails.maxOrdersPerMinute',
        'guardrails.maxOrdersPerMinute must be a positive integer',
      );
    out.maxOrdersPerMinute = g.maxOrdersPerMinute;
  }
  if (g.staleMarketDataSeconds !== undefined) {
    if (!Number.isInteger(g.staleMarketDataSeconds) || g.staleMarketDataSeconds < 1)
      throw new InputError(
        'guardrails.staleMarketDataSeconds',
        'guardrails.staleMarketDataSeconds must be a positive integer',
      );
    out.staleMarketDataMs = g.staleMarketDataSeconds * 1000;
  }
  return out;
}

/**
 * Watches one running strategy. Time comes from the caller, so a test drives it with a fake
 * clock. `start` counts as the last market update: a strategy that never sees one goes stale too.
 */
export class GuardrailMonitor {
  private readonly g: ParsedGuardrails;
  private readonly inst: Instrument;
  private peak: bigint | undefined;
  private lastQuote: number;
  /** Times of the orders placed in the last minute, oldest first. */
  private placed: number[] = [];
  /** Order attempts in the reject window: [time, rejected]. */
  private attempts: Array<[number, boolean]> = [];

  constructor(g: ParsedGuardrails, inst: Instrument, start: number) {
    this.g = g;
    this.inst = inst;
    this.lastQuote = start;
  }

  quote(now: number): void {
    this.lastQuote = now;
  }

  /** An order attempt of the strategy: placed, or rejected (by risk, input or the venue). */
  attempt(now: number, rejected: boolean): void {
    if (!rejected) this.placed.push(now);
    if (this.g.maxRejectRatio) this.attempts.push([now, rejected]);
  }

  /** A placed order the venue rejected afterwards. */
  venueReject(now: number): void {
    if (this.g.maxRejectRatio) this.attempts.push([now, true]);
  }

  /** Would one more order cross maxOrdersPerMinute? Asked before each order, so none goes over. */
  orderRate(now: number): Crossing | undefined {
    const max = this.g.maxOrdersPerMinute;
    if (max === undefined) return undefined;
    this.prune(now);
    if (this.placed.length < max) return undefined;
    return {
      guardrail: 'maxOrdersPerMinute',
      value: String(this.placed.length + 1),
      limit: String(max),
      reason: `order ${this.placed.length + 1} within a minute would exceed maxOrdersPerMinute ${max}`,
    };
  }

  private prune(now: number): void {
    while (this.placed.length > 0 && this.placed[0]! <= now - MINUTE_MS) this.placed.shift();
    const w = this.g.maxRejectRatio?.windowMs;
    if (w !== undefined)
      while (this.attempts.length > 0 && this.attempts[0]![0] <= now - w) this.attempts.shift();
  }

  /** The first guardrail crossed at `now` with the strategy's PnL (realized + unrealized), if any. */
  check(pnl: bigint, now: number): Crossing | undefined {
    const g = this.g;
    this.prune(now);
    if (g.maxLoss && -pnl >= g.maxLoss.limit) {
      const value = formatNotional(this.inst, pnl);
      return {
        guardrail: 'maxLoss',
        value,
        limit: g.maxLoss.text,
        reason: `PnL ${value} reached the maxLoss of ${g.maxLoss.text}`,
      };
    }
    this.peak = this.peak === undefined || pnl > this.peak ? pnl : this.peak;
    if (g.maxDrawdown && this.peak - pnl >= g.maxDrawdown.limit) {
      const value = formatNotional(this.inst, this.peak - pnl);
      return {
        guardrail: 'maxDrawdown',
        value,
        limit: g.maxDrawdown.text,
        reason: `PnL fell ${value} from its peak of ${formatNotional(this.inst, this.peak)}, reaching the maxDrawdown of ${g.maxDrawdown.text}`,
      };
    }
    const r = g.maxRejectRatio;
    if (r && this.attempts.length >= r.minOrders) {
      const rejects = this.attempts.filter(([, rej]) => rej).length;
      if (rejects * PPM > r.ppm * this.attempts.length) {
        const value = formatScaled(BigInt(Math.floor((rejects * PPM) / this.attempts.length)), 6).replace(
          /\.?0+$/,
          '',
        );
        return {
          guardrail: 'maxRejectRatio',
          value,
          limit: r.text,
          reason: `${rejects} of ${this.attempts.length} orders rejected in ${r.windowMs / 1000} s, above maxRejectRatio ${r.text}`,
        };
      }
    }
    const stale = g.staleMarketDataMs;
    if (stale !== undefined && now - this.lastQuote >= stale) {
      const seconds = Math.floor((now - this.lastQuote) / 1000);
      return {
        guardrail: 'staleMarketDataSeconds',
        value: String(seconds),
        limit: String(stale / 1000),
        reason: `no market data for ${this.inst.symbol} for ${seconds} s (staleMarketDataSeconds ${stale / 1000})`,
      };
    }
    return undefined;
  }
}
