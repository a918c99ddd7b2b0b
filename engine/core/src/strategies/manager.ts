// Runs the strategies of one engine: idempotent, versioned upserts (the operator PUTs the CR
// generation as the version), pause, removal with its open orders cancelled, per-strategy
// position, PnL, order count and last error, and the guardrails that halt a strategy for good
// (ADR 0020): the halt is a WAL record, so it outlives restarts until a newer version resumes it.
import { rename, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatNotional, formatQty } from '../domain/instrument.ts';
import { formatScaled } from '../domain/decimal.ts';
import type { Order } from '../domain/order.ts';
import type { Engine } from '../engine/engine.ts';
import { ConflictError, FencedError, NotFoundError } from '../engine/engine.ts';
import { InputError } from '../engine/order-input.ts';
import type { Quote } from '../market/book.ts';
import { RiskRejection, checkPosition, checkQuantity } from '../risk/risk.ts';
import { TokenBucket } from '@veloz/common/token-bucket';
import type { Strategy } from '@veloz/api/http/contract';
import { GridStrategy, parseGridParams } from './grid.ts';
import { MarketMakerStrategy, parseMarketMakerParams } from './market-maker.ts';
import { MomentumStrategy, parseMomentumParams } from './momentum.ts';
import { GuardrailMonitor, parseGuardrails, type Crossing } from './guardrails.ts';
import type { StrategyContext, StrategyLogic, StrategySpec } from './types.ts';

const STATE_FILE = 'strategies.json';
/** How often the guardrails are checked between market updates (stale market data needs it). */
export const GUARDRAIL_CHECK_MS = 1000;

interface Runtime {
  spec: StrategySpec;
  logic: StrategyLogic;
  bucket: TokenBucket | undefined;
  lastError: string;
  lastErrorAt: number;
  errors: number;
  guard: GuardrailMonitor | undefined;
  /** A halt the WAL could not record (it was out of service): it holds until the process ends. */
  memoryHalt: (Crossing & { time: number }) | undefined;
}

/** A strategy as the HTTP API answers it. */
export type StrategyView = Strategy;

function buildLogic(spec: StrategySpec, engine: Engine): StrategyLogic {
  const inst = engine.instruments.get(spec.symbol);
  if (!inst) {
    throw new InputError(
      'symbol',
      `unknown symbol ${spec.symbol}; this engine trades ${[...engine.instruments.keys()].join(', ')}`,
    );
  }
  switch (spec.type) {
    case 'grid':
      return new GridStrategy(parseGridParams(spec.params, inst));
    case 'market_maker':
      return new MarketMakerStrategy(parseMarketMakerParams(spec.params, inst));
    case 'momentum':
      return new MomentumStrategy(parseMomentumParams(spec.params, inst));
  }
}

function sameSpec(a: StrategySpec, b: StrategySpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class StrategyManager {
  private readonly engine: Engine;
  private readonly runtimes = new Map<string, Runtime>();
  private saving: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(engine: Engine) {
    this.engine = engine;
    engine.onQuote((q) => this.onQuote(q));
    engine.onOrder((o) => {
      if (o.strategy === '' || o.status !== 'REJECTED') return;
      this.runtimes.get(o.strategy)?.guard?.venueReject(engine.clock());
    });
    this.timer = setInterval(() => this.checkGuardrails(), GUARDRAIL_CHECK_MS);
    this.timer.unref();
  }

  /** Stops the guardrail timer (before the engine closes). */
  close(): void {
    clearInterval(this.timer);
  }

  /** Restores the strategies saved beside the WAL (the operator re-syncs them too). */
  async load(): Promise<void> {
    let raw: string;
    try {
      raw = await readFile(join(this.engine.config.walDir, STATE_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const specs = JSON.parse(raw) as StrategySpec[];
    for (const spec of specs) {
      try {
        this.runtimes.set(spec.name, this.runtime(spec));
      } catch (err) {
        this.engine.log.error({ err, strategy: spec.name }, 'saved strategy could not be restored');
      }
    }
    // A crash between a halt and the cancels of its orders leaves them open: cancel them now.
    for (const rt of this.runtimes.values()) {
      const h = this.halt(rt);
      if (!h) continue;
      this.engine.metrics.strategyHalted.set({ strategy: rt.spec.name, guardrail: h.guardrail }, 1);
      this.cancelAll(rt.spec.name, `halted by guardrail ${h.guardrail}`);
    }
  }

  /** The halt holding this strategy, from the WAL (or from memory when the WAL could not take it). */
  private halt(rt: Runtime): (Crossing & { time: number; version: number }) | undefined {
    if (rt.memoryHalt) return { ...rt.memoryHalt, version: rt.spec.version };
    const h = this.engine.state.strategyHalts.get(rt.spec.name);
    if (!h?.halted) return undefined;
    return {
      guardrail: h.guardrail as Crossing['guardrail'],
      value: h.value,
      limit: h.limit,
      reason: h.reason,
      time: h.time,
      version: h.version,
    };
  }

  private runtime(spec: StrategySpec): Runtime {
    const rate = spec.risk.maxOrdersPerSecond;
    const logic = buildLogic(spec, this.engine);
    const inst = this.engine.instruments.get(spec.symbol)!;
    const guardrails = spec.guardrails && parseGuardrails(spec.guardrails, inst);
    return {
      spec,
      logic,
      bucket: rate ? new TokenBucket(rate) : undefined,
      lastError: '',
      lastErrorAt: 0,
      errors: 0,
      guard: guardrails && new GuardrailMonitor(guardrails, inst, this.engine.clock()),
      memoryHalt: undefined,
    };
  }

  private async save(): Promise<void> {
    const specs = [...this.runtimes.values()].map((r) => r.spec);
    const dir = this.engine.config.walDir;
    const next = this.saving.then(async () => {
      await writeFile(join(dir, `${STATE_FILE}.tmp`), JSON.stringify(specs, null, 2));
      await rename(join(dir, `${STATE_FILE}.tmp`), join(dir, STATE_FILE));
    });
    this.saving = next.catch(() => undefined);
    await next;
  }

  /** Creates or updates a strategy; returns whether anything changed. */
  async upsert(spec: StrategySpec): Promise<{ view: StrategyView; changed: boolean; created: boolean }> {
    const cur = this.runtimes.get(spec.name);
    if (cur && spec.version < cur.spec.version) {
      throw new ConflictError(
        `strategy ${spec.name} is at version ${cur.spec.version}; version ${spec.version} is stale`,
      );
    }
    if (cur && sameSpec(cur.spec, spec)) return { view: this.view(cur), changed: false, created: false };
    if (cur && spec.version === cur.spec.version) {
      throw new ConflictError(
        `strategy ${spec.name} version ${spec.version} already exists with a different spec; bump the version`,
      );
    }
    const rt = this.runtime(spec);
    if (cur && (cur.spec.symbol !== spec.symbol || cur.spec.type !== spec.type || !spec.enabled)) {
      this.cancelAll(spec.name, spec.enabled ? 'strategy replaced' : 'strategy paused');
    }
    if (cur) {
      rt.errors = cur.errors;
      rt.lastError = cur.lastError;
      rt.lastErrorAt = cur.lastErrorAt;
      rt.memoryHalt = cur.memoryHalt;
    }
    // Only a newer version that names a resume time at or after the halt lifts it: the same
    // version pushed again (after a restart, by the operator) never does (ADR 0020).
    const h = this.engine.state.strategyHalts.get(spec.name);
    if (
      h?.halted &&
      spec.version > h.version &&
      spec.resumeAfter !== undefined &&
      spec.resumeAfter >= h.time
    ) {
      this.recordResume(spec.name, spec.version, `resumed by version ${spec.version}`);
      rt.memoryHalt = undefined;
    }
    this.runtimes.set(spec.name, rt);
    await this.save();
    await this.engine.durable(() => undefined);
    this.engine.events.publish('strategy', { name: spec.name, version: spec.version, enabled: spec.enabled });
    return { view: this.view(rt), changed: true, created: !cur };
  }

  async remove(name: string): Promise<StrategyView> {
    const rt = this.runtimes.get(name);
    if (!rt) throw new NotFoundError(`strategy ${name} not found`);
    this.cancelAll(name, 'strategy removed');
    // The halt ends with the strategy: a new one of the same name starts clean.
    if (this.halt(rt)) this.recordResume(name, rt.spec.version, 'strategy removed');
    this.runtimes.delete(name);
    await this.save();
    await this.engine.durable(() => undefined);
    this.engine.events.publish('strategy', { name, removed: true });
    return { ...this.view(rt), enabled: false, state: 'paused', openOrders: 0 };
  }

  get(name: string): StrategyView {
    const rt = this.runtimes.get(name);
    if (!rt) throw new NotFoundError(`strategy ${name} not found`);
    return this.view(rt);
  }

  list(): StrategyView[] {
    return [...this.runtimes.values()].map((r) => this.view(r));
  }

  private openOrders(name: string): Order[] {
    const out: Order[] = [];
    for (const id of this.engine.state.open) {
      const o = this.engine.state.orders.get(id)!;
      if (o.strategy === name) out.push(o);
    }
    return out;
  }

  private cancelAll(name: string, reason: string): void {
    for (const o of this.openOrders(name)) this.engine.cancelOrderNow(o.orderId, reason);
  }

  private recordResume(name: string, version: number, reason: string): void {
    const h = this.engine.state.strategyHalts.get(name);
    if (h?.halted) {
      this.engine.recordStrategyHalt({
        strategy: name,
        halted: false,
        version,
        guardrail: '',
        value: '',
        limit: '',
        reason,
      });
      this.engine.metrics.strategyHalted.remove({ strategy: name, guardrail: h.guardrail });
    }
    this.engine.log.warn({ strategy: name, version, reason }, 'strategy resumed after a guardrail halt');
    this.engine.events.publish('strategy', { name, version, halted: false, reason });
  }

  /**
   * Stops a strategy whose guardrail was crossed: records the halt in the WAL first, then cancels
   * its open orders. A WAL out of service cannot take the record; the strategy stops all the same.
   */
  private stop(rt: Runtime, c: Crossing): void {
    const name = rt.spec.name;
    const now = this.engine.clock();
    try {
      this.engine.recordStrategyHalt({
        strategy: name,
        halted: true,
        version: rt.spec.version,
        guardrail: c.guardrail,
        value: c.value,
        limit: c.limit,
        reason: c.reason,
      });
    } catch (err) {
      rt.memoryHalt = { ...c, time: now };
      this.engine.log.error(
        { err, strategy: name },
        'guardrail halt not recorded in the WAL; halted in memory',
      );
    }
    this.engine.metrics.strategyHalted.set({ strategy: name, guardrail: c.guardrail }, 1);
    this.engine.log.warn({ strategy: name, ...c }, 'strategy halted by a guardrail');
    this.engine.events.publish('strategy', {
      name,
      version: rt.spec.version,
      halted: true,
      guardrail: c.guardrail,
      value: c.value,
      limit: c.limit,
    });
    try {
      this.cancelAll(name, `halted by guardrail ${c.guardrail}`);
    } catch (err) {
      // What is left open is cancelled at the next start (load) or by hand; the strategy stays stopped.
      this.engine.log.error({ err, strategy: name }, 'open orders of a halted strategy not all cancelled');
    }
  }

  /** Checks the guardrails of one running strategy; true when it was halted. */
  private guard(rt: Runtime, now: number): boolean {
    if (!rt.guard) return false;
    const c = rt.guard.check(this.pnl(rt), now);
    if (!c) return false;
    this.stop(rt, c);
    return true;
  }

  private pnl(rt: Runtime): bigint {
    const pos = this.engine.state.findPosition(rt.spec.name, rt.spec.symbol);
    if (!pos) return 0n;
    const mark = this.engine.markPrice(rt.spec.symbol);
    return pos.realized + (mark ? pos.unrealized(mark) : 0n);
  }

  /** Checks every running strategy's guardrails now (the timer's job; tests call it). */
  checkGuardrails(): void {
    const now = this.engine.clock();
    for (const rt of this.runtimes.values()) {
      if (!rt.spec.enabled || this.halt(rt)) continue;
      this.guard(rt, now);
    }
  }

  private view(rt: Runtime): StrategyView {
    const { spec } = rt;
    const halt = this.halt(rt);
    const inst = this.engine.instruments.get(spec.symbol)!;
    const pos = this.engine.state.findPosition(spec.name, spec.symbol);
    const mark = this.engine.markPrice(spec.symbol);
    return {
      name: spec.name,
      type: spec.type,
      symbol: spec.symbol,
      version: spec.version,
      enabled: spec.enabled,
      state: halt ? 'halted' : spec.enabled ? 'running' : 'paused',
      params: spec.params,
      risk: spec.risk,
      guardrails: spec.guardrails ?? {},
      halt: halt
        ? {
            guardrail: halt.guardrail,
            value: halt.value,
            limit: halt.limit,
            reason: halt.reason,
            version: halt.version,
            at: halt.time,
          }
        : null,
      position: formatQty(inst, pos?.net ?? 0),
      realizedPnl: formatNotional(inst, pos?.realized ?? 0n),
      unrealizedPnl: formatNotional(inst, pos && mark ? pos.unrealized(mark) : 0n),
      ordersPlaced: this.engine.state.strategyOrders.get(spec.name) ?? 0,
      openOrders: this.openOrders(spec.name).length,
      errors: rt.errors,
      lastError: rt.lastError,
      lastErrorAt: rt.lastErrorAt || null,
    };
  }

  private onQuote(q: Quote): void {
    const now = this.engine.clock();
    for (const rt of this.runtimes.values()) {
      if (!rt.spec.enabled || rt.spec.symbol !== q.symbol || this.halt(rt)) continue;
      rt.guard?.quote(now);
      if (this.guard(rt, now)) continue;
      try {
        rt.logic.onQuote(this.context(rt), q);
      } catch (err) {
        this.recordError(rt, err);
      }
      // Orders placed or rejected just now count at once (the reject ratio).
      if (!this.halt(rt)) this.guard(rt, now);
    }
  }

  private recordError(rt: Runtime, err: unknown): void {
    rt.errors += 1;
    rt.lastError = err instanceof Error ? err.message : String(err);
    rt.lastErrorAt = Date.now();
    this.engine.metrics.strategyErrors.inc({ strategy: rt.spec.name });
    // Refusals are counted, not logged per quote: the fence logs once when it starts.
    if (!(err instanceof RiskRejection) && !(err instanceof FencedError))
      this.engine.log.error({ err, strategy: rt.spec.name }, 'strategy error');
  }

  private context(rt: Runtime): StrategyContext {
    const engine = this.engine;
    const name = rt.spec.name;
    const inst = engine.instruments.get(rt.spec.symbol)!;
    return {
      instrument: inst,
      openOrders: () => this.openOrders(name),
      position: () => engine.state.findPosition(name, inst.symbol)?.net ?? 0,
      place: (side, type, quantity, price) => {
        if (this.halt(rt)) return;
        const now = engine.clock();
        const rate = rt.guard?.orderRate(now);
        if (rate) {
          this.stop(rt, rate);
          return;
        }
        try {
          engine.placeOrderNow(
            {
              symbol: inst.symbol,
              side,
              type,
              quantity: formatScaled(quantity, inst.qtyDecimals),
              price: type === 'LIMIT' ? formatScaled(price ?? 0, inst.priceDecimals) : undefined,
            },
            name,
            (p) => {
              const intent = { instrument: inst, side: p.side, quantity: p.quantity, price: p.price };
              checkQuantity(intent, rt.spec.risk.maxOrderQuantity, 'STRATEGY_MAX_ORDER_QUANTITY');
              checkPosition(
                intent,
                engine.strategyExposure(name, inst.symbol),
                rt.spec.risk.maxPosition,
                'STRATEGY_MAX_POSITION',
              );
              if (rt.bucket && !rt.bucket.tryTake()) {
                throw new RiskRejection('STRATEGY_RATE_LIMIT', `strategy ${name} order rate limit exceeded`);
              }
            },
          );
          rt.guard?.attempt(now, false);
          this.engine.metrics.strategyOrders.set(
            { strategy: name },
            engine.state.strategyOrders.get(name) ?? 0,
          );
        } catch (err) {
          if (err instanceof RiskRejection || err instanceof InputError) rt.guard?.attempt(now, true);
          this.recordError(rt, err);
        }
      },
      cancel: (orderId, reason) => engine.cancelOrderNow(orderId, reason),
    };
  }
}
