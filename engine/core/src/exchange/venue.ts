// The seams between the engine and where its orders and prices come from. The engine owns the
// order path (check -> WAL append -> apply); a venue only decides what to record next.
import type { Logger } from 'pino';
import type { Instrument } from '../domain/instrument.ts';
import type { Order } from '../domain/order.ts';
import type { EngineEventType } from '../engine/events.ts';
import type { EngineState } from '../engine/state.ts';
import type { Quote } from '../market/book.ts';
import type { EngineMetrics } from '../metrics/engine-metrics.ts';
import type { OrderRecord } from '@veloz/wal/payloads';
import type { Reconciliation } from '@veloz/api/http/contract';

export interface VenueHost {
  readonly log: Logger;
  readonly metrics: EngineMetrics;
  readonly state: EngineState;
  readonly instruments: ReadonlyMap<string, Instrument>;
  /** check -> WAL append -> apply, synchronously; durable once waitDurable(order.lastSequence) resolves. */
  commit(rec: OrderRecord): Order;
  waitDurable(seq: number): Promise<void>;
  publish(type: EngineEventType, data: unknown): void;
  /** Halts new orders (what reconciliation cannot repair fails closed); resuming is the operator's. */
  halt(reason: string): void;
  halted(): boolean;
}

/** Where orders are executed: the simulated matcher or an exchange. */
export interface ExecutionVenue {
  /** The order's OrderNew record has just been appended (not yet durable). */
  submit(order: Order): void;
  /** A cancel of a non-terminal order; returns the order after what the venue recorded at once. */
  cancel(order: Order, reason: string): Order;
  /** Takes over the open orders recovered from the WAL (resubmits, requeues or reconciles them). */
  recover(): Promise<void>;
  /** Reasons the venue is not ready (empty when it is). */
  readiness(): string[];
  /** Stops background work and waits for in-flight requests to finish and be recorded. */
  close(): Promise<void>;
  /** The last reconciliation with the exchange; absent for the simulated venue. */
  reconciliation?(): Reconciliation;
}

export interface FeedSink {
  quote(q: Quote): void;
  event(type: EngineEventType, data: unknown): void;
}

/** A source of market data for the configured symbols. */
export interface MarketFeed {
  start(): void;
  readiness(): string[];
  close(): Promise<void>;
}
