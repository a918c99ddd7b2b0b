// One request-weight budget per exchange host, shared by market data and trading: Binance limits
// request weight per IP, not per client (rest-api.md, "IP Limits"), so two clients that back off
// separately still add up to a 429 and then a ban. The limits are the REQUEST_WEIGHT entries of
// exchangeInfo's rateLimits; every answer's X-MBX-USED-WEIGHT-(n)(letter) header says what the
// exchange has counted, which covers anything else on the same IP and our own errors of count.
//
// A request takes its weight before it leaves. Market data may use MARKET_SHARE of each limit and
// trading TRADING_SHARE, so prices never starve orders and something is left for whatever else
// shares the IP. A request that does not fit waits for the exchange's next window (windows are
// aligned to the exchange clock, as the fake's and the exchange's counters are): market data
// slows down instead of meeting a 429.
import type { BinanceRateLimit } from './binance-types.ts';

export type Lane = 'market' | 'trading';

export const MARKET_SHARE = 0.6;
export const TRADING_SHARE = 0.9;
/** Waits past a window's end by this much, for the error of the clock offset estimate. */
const SLACK_MS = 50;

const UNIT_MS: Record<string, number> = { SECOND: 1000, MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };
const LETTER: Record<string, string> = { SECOND: 's', MINUTE: 'm', HOUR: 'h', DAY: 'd' };

interface Window {
  ms: number;
  limit: number;
  /** Lower-case response header that reports this window's used weight. */
  header: string;
  start: number;
  used: number;
}

/** The docs' REQUEST_WEIGHT limit, until exchangeInfo tells the real one. */
export const DEFAULT_WEIGHT_LIMITS: BinanceRateLimit[] = [
  { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 },
];

export interface BudgetClock {
  /** The exchange's clock as estimated. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Thrown when a request would have to wait longer than its caller allows. */
export class BudgetExhaustedError extends Error {
  readonly waitMs: number;
  constructor(waitMs: number) {
    super(`request weight budget used up; the next window opens in ${waitMs} ms`);
    this.waitMs = waitMs;
  }
}

export class WeightBudget {
  private windows: Window[] = [];
  private readonly clock: BudgetClock;

  constructor(clock: BudgetClock, limits: BinanceRateLimit[] = DEFAULT_WEIGHT_LIMITS) {
    this.clock = clock;
    this.setLimits(limits);
  }

  /** Takes the REQUEST_WEIGHT limits of exchangeInfo (others are not about weight). */
  setLimits(limits: BinanceRateLimit[]): void {
    const next: Window[] = [];
    for (const l of limits) {
      const unit = UNIT_MS[l.interval];
      if (l.rateLimitType !== 'REQUEST_WEIGHT' || !unit || l.intervalNum <= 0 || l.limit <= 0) continue;
      const ms = unit * l.intervalNum;
      const old = this.windows.find((w) => w.ms === ms);
      next.push({
        ms,
        limit: l.limit,
        header: `x-mbx-used-weight-${l.intervalNum}${LETTER[l.interval]}`,
        start: old?.start ?? 0,
        used: old?.used ?? 0,
      });
    }
    if (next.length > 0) this.windows = next;
  }

  get limits(): ReadonlyArray<{ windowMs: number; limit: number }> {
    return this.windows.map((w) => ({ windowMs: w.ms, limit: w.limit }));
  }

  private roll(now: number): void {
    for (const w of this.windows) {
      const start = Math.floor(now / w.ms) * w.ms;
      if (start !== w.start) {
        w.start = start;
        w.used = 0;
      }
    }
  }

  /** Milliseconds until `weight` fits in the lane's share of every window (0: now). */
  waitFor(weight: number, lane: Lane): number {
    const now = this.clock.now();
    this.roll(now);
    const share = lane === 'market' ? MARKET_SHARE : TRADING_SHARE;
    let wait = 0;
    for (const w of this.windows)
      if (w.used + weight > Math.floor(w.limit * share))
        wait = Math.max(wait, w.start + w.ms - now + SLACK_MS);
    return wait;
  }

  /**
   * Waits until `weight` fits, then counts it. Waiting longer than `maxWaitMs` throws
   * BudgetExhaustedError instead (the request never left).
   */
  async take(weight: number, lane: Lane, maxWaitMs = Number.POSITIVE_INFINITY): Promise<void> {
    for (;;) {
      const wait = this.waitFor(weight, lane);
      if (wait === 0) break;
      if (wait > maxWaitMs) throw new BudgetExhaustedError(wait);
      await this.clock.sleep(wait);
    }
    for (const w of this.windows) w.used += weight;
  }

  /** The window starts current when a request was sent; see observe(). */
  mark(): number {
    const now = this.clock.now();
    this.roll(now);
    return now;
  }

  /**
   * What the exchange counted, from an answer's headers. Only a count from the window the
   * request was sent in is taken (an answer straddling a window's end says nothing about the new
   * one), and only upwards: requests still in flight are in ours but not yet in theirs.
   */
  observe(header: (name: string) => string | null, sentAt: number): void {
    const now = this.clock.now();
    this.roll(now);
    for (const w of this.windows) {
      if (Math.floor(sentAt / w.ms) * w.ms !== w.start) continue;
      const v = Number(header(w.header));
      if (Number.isFinite(v) && v > w.used) w.used = v;
    }
  }

  /** The weight used in the current window of each limit, as a fraction of the limit. */
  usage(): number {
    this.roll(this.clock.now());
    return Math.max(0, ...this.windows.map((w) => w.used / w.limit));
  }

  /**
   * The shortest interval at which something costing `weight` may repeat in `lane` without
   * waiting: what a market data poll of all symbols must slow down to.
   */
  minIntervalMs(weight: number, lane: Lane): number {
    const share = lane === 'market' ? MARKET_SHARE : TRADING_SHARE;
    return Math.max(0, ...this.windows.map((w) => Math.ceil((weight * w.ms) / Math.floor(w.limit * share))));
  }
}

/** One budget per host (scheme, name and port), whatever the path. */
export class WeightBudgets {
  private readonly byHost = new Map<string, WeightBudget>();
  private readonly clock: BudgetClock;

  constructor(clock: BudgetClock) {
    this.clock = clock;
  }

  for(url: string): WeightBudget {
    const host = new URL(url).host.toLowerCase();
    let b = this.byHost.get(host);
    if (!b) this.byHost.set(host, (b = new WeightBudget(this.clock)));
    return b;
  }

  setLimits(limits: BinanceRateLimit[]): void {
    for (const b of this.byHost.values()) b.setLimits(limits);
  }
}
