import type { Instrument } from '../domain/instrument.ts';
import type { Order, Side } from '../domain/order.ts';
import type { Quote } from '../market/book.ts';

import type { StrategyType } from '@veloz/api/enums';
import type { StrategyGuardrails } from './guardrails.ts';

export { STRATEGY_TYPES, type StrategyType } from '@veloz/api/enums';

export interface StrategyRisk {
  maxPosition?: string | undefined;
  maxOrderQuantity?: string | undefined;
  maxOrdersPerSecond?: number | undefined;
}

/** What a client (or the operator) PUTs: the desired strategy, versioned by `version`. */
export interface StrategySpec {
  name: string;
  type: StrategyType;
  symbol: string;
  params: Record<string, unknown>;
  version: number;
  enabled: boolean;
  risk: StrategyRisk;
  /** Limits whose crossing halts the strategy until a resume (ADR 0020); absent: none. */
  guardrails?: StrategyGuardrails | undefined;
  /**
   * Milliseconds since the epoch: a halt recorded at or before this time, at an older version,
   * is lifted by this spec. Absent: no resume.
   */
  resumeAfter?: number | undefined;
}

/** What a strategy may do; every order goes through the engine's and the strategy's risk checks. */
export interface StrategyContext {
  instrument: Instrument;
  openOrders(): Order[];
  /** Net position of this strategy, in quantity units. */
  position(): number;
  place(side: Side, type: 'LIMIT' | 'MARKET', quantity: number, price?: number): void;
  cancel(orderId: number, reason: string): void;
}

export interface StrategyLogic {
  onQuote(ctx: StrategyContext, q: Quote): void;
}
