// Runs the strategies of one engine: idempotent, versioned upserts (the operator PUTs the CR
// generation as the version), pause, removal with its open orders cancelled, and per-strategy
// position, PnL, order count and last error.
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
import type { StrategyContext, StrategyLogic, StrategySpec } from './types.ts';

const STATE_FILE = 'strategies.json';

interface Runtime {
  spec: StrategySpec;
  logic: StrategyLogic;
  bucket: TokenBucket | undefined;
  lastError: string;
  lastErrorAt: number;
  errors: number;
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

  constructor(engine: Engine) {
    this.engine = engine;
    engine.onQuote((q) => this.onQuote(q));
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
  }

  private runtime(spec: StrategySpec): Runtime {
    const rate = spec.risk.maxOrdersPerSecond;
    return {
      spec,
      logic: buildLogic(spec, this.engine),
      bucket: rate ? new TokenBucket(rate) : undefined,
      lastError: '',
      lastErrorAt: 0,
      errors: 0,
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

  private view(rt: Runtime): StrategyView {
    const { spec } = rt;
    const inst = this.engine.instruments.get(spec.symbol)!;
    const pos = this.engine.state.findPosition(spec.name, spec.symbol);
    const mark = this.engine.markPrice(spec.symbol);
    return {
      name: spec.name,
      type: spec.type,
      symbol: spec.symbol,
      version: spec.version,
      enabled: spec.enabled,
      state: spec.enabled ? 'running' : 'paused',
      params: spec.params,
      risk: spec.risk,
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
    for (const rt of this.runtimes.values()) {
      if (!rt.spec.enabled || rt.spec.symbol !== q.symbol) continue;
      try {
        rt.logic.onQuote(this.context(rt), q);
      } catch (err) {
        this.recordError(rt, err);
      }
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
          this.engine.metrics.strategyOrders.set(
            { strategy: name },
            engine.state.strategyOrders.get(name) ?? 0,
          );
        } catch (err) {
          this.recordError(rt, err);
        }
      },
      cancel: (orderId, reason) => engine.cancelOrderNow(orderId, reason),
    };
  }
}
