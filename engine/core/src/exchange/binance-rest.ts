// Binance Spot REST client: signed requests with server-time sync, back-off that honours
// Retry-After, and errors that say whether the request may have been executed.
import type { Logger } from 'pino';
import { AnswerShapeError, parse, type Parser } from './binance-answers.ts';
import { classifyAnswer, ERR, type OutcomeClass } from './binance-errors.ts';
import { requestWeight } from './request-weights.ts';
import { encodeParams, signedQuery, type Params } from './signing.ts';
import { BudgetExhaustedError, type Lane, type WeightBudget } from './weight-budget.ts';

/** The exchange answered with an error; `outcome` says what that means for the request. */
export class BinanceApiError extends Error {
  readonly status: number;
  readonly code: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(status: number, code: number | undefined, msg: string, retryAfterMs?: number) {
    super(`Binance ${status}${code !== undefined ? ` code ${code}` : ''}: ${msg}`);
    this.status = status;
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }

  get rateLimited(): boolean {
    return (
      this.status === 429 ||
      this.status === 418 ||
      this.code === ERR.TOO_MANY_REQUESTS ||
      this.code === ERR.TOO_MANY_ORDERS
    );
  }

  /** What the answer says about the request (binance-errors.ts). */
  get outcome(): OutcomeClass {
    return classifyAnswer(this.status, this.code, this.message);
  }
}

/**
 * No usable answer (5XX, timeout, connection lost): Binance's own words are that the execution
 * status is then UNKNOWN, so a write must be resolved by querying, never by guessing.
 */
export class BinanceUnknownError extends Error {}

/** The outcome class of an error from this client, or undefined for anything else (a bug). */
export function outcomeOf(err: unknown): OutcomeClass | undefined {
  if (err instanceof BinanceUnknownError) return 'unknown';
  if (err instanceof BinanceApiError) return err.outcome;
  return undefined;
}

/** Options of one signed request. */
export interface SignedOptions {
  /** Called with the `timestamp` each attempt is signed with (the exchange's clock, as estimated). */
  onSign?(timestamp: number): void;
}

// A 403 is a WAF block: sending the same traffic again at once would only prolong it.
const WAF_BACKOFF_MS = 5000;

export interface BinanceRestOptions {
  baseUrl: string;
  apiKey?: string | undefined;
  apiSecret?: string | undefined;
  recvWindow: number;
  timeoutMs: number;
  /** Longest Retry-After waited out before retrying; longer bans fail the request. */
  maxBackoffMs: number;
  log: Logger;
  now?: () => number;
  /** The request-weight budget of this client's host, shared with every client of that host. */
  budget?: WeightBudget;
  /** Whose share of the budget this client's requests use (default trading). */
  lane?: Lane;
  hooks?: {
    onRequest?(endpoint: string, status: string): void;
    onBackoff?(reason: string, ms: number): void;
    onUsedWeight?(weight: number): void;
  };
}

export class BinanceRest {
  private readonly o: BinanceRestOptions;
  private readonly now: () => number;
  /** Server time minus local time, learned from GET /api/v3/time. */
  private offsetMs = 0;
  /** No request leaves before this local time (Retry-After of the last 429/418). */
  private blockedUntil = 0;

  constructor(opts: BinanceRestOptions) {
    this.o = opts;
    this.now = opts.now ?? Date.now;
  }

  get timeOffsetMs(): number {
    return this.offsetMs;
  }

  get recvWindow(): number {
    return this.o.recvWindow;
  }

  /** The exchange's clock as estimated from the last sync. */
  serverNow(): number {
    return this.now() + this.offsetMs;
  }

  /** Milliseconds until requests may leave again (0 when not backing off). */
  backoffRemainingMs(): number {
    return Math.max(0, this.blockedUntil - this.now());
  }

  async syncTime(): Promise<void> {
    const t0 = this.now();
    const res = await this.public('/api/v3/time', {}, parse.serverTime);
    const t1 = this.now();
    this.offsetMs = res.serverTime - Math.round((t0 + t1) / 2);
  }

  /** A public GET; `parse` checks the answer's shape (binance-answers.ts). */
  public<T>(path: string, params: Params, parse: Parser<T>): Promise<T> {
    return this.request('GET', path, params, false, parse, {});
  }

  signed<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    params: Params,
    parse: Parser<T>,
    opts: SignedOptions = {},
  ): Promise<T> {
    if (!this.o.apiKey || !this.o.apiSecret) throw new Error('Binance credentials are not configured');
    return this.request(method, path, params, true, parse, opts);
  }

  private async request<T>(
    method: string,
    path: string,
    params: Params,
    signed: boolean,
    parse: Parser<T>,
    opts: SignedOptions,
  ): Promise<T> {
    let timeSynced = false;
    for (let attempt = 0; ; attempt++) {
      const wait = this.backoffRemainingMs();
      if (wait > 0) {
        if (wait > this.o.maxBackoffMs)
          throw new BinanceApiError(429, ERR.TOO_MANY_REQUESTS, `backing off for ${wait} ms`, wait);
        await new Promise((r) => setTimeout(r, wait));
      }
      await this.takeWeight(method, path, params);
      try {
        return await this.once(method, path, params, signed, parse, opts);
      } catch (err) {
        if (!(err instanceof BinanceApiError)) throw err;
        if (err.rateLimited) {
          // 429 and 418 are refused before execution: waiting and sending again is safe.
          const ms = err.retryAfterMs ?? 1000 * 2 ** Math.min(attempt, 6);
          this.blockedUntil = Math.max(this.blockedUntil, this.now() + ms);
          this.o.hooks?.onBackoff?.(err.status === 418 ? 'ip_banned' : 'rate_limited', ms);
          this.o.log.warn(
            { status: err.status, code: err.code, retryAfterMs: ms, path },
            'Binance rate limit; backing off',
          );
          if (ms > this.o.maxBackoffMs || attempt >= 5) throw err;
          continue;
        }
        if (signed && err.code === ERR.TIMESTAMP_OUTSIDE_RECV_WINDOW && !timeSynced) {
          // -1021 is refused before execution too; resync the clock once and resend.
          timeSynced = true;
          this.o.hooks?.onBackoff?.('time_sync', 0);
          await this.syncTime();
          this.o.log.warn({ offsetMs: this.offsetMs }, 'Binance clock offset resynchronised after -1021');
          continue;
        }
        throw err;
      }
    }
  }

  /** Waits for the request's weight to fit the host's budget; a longer wait than a ban we would sit out refuses it. */
  private async takeWeight(method: string, path: string, params: Params): Promise<void> {
    if (!this.o.budget) return;
    try {
      await this.o.budget.take(
        requestWeight(method, path, params),
        this.o.lane ?? 'trading',
        this.o.maxBackoffMs,
      );
    } catch (err) {
      if (!(err instanceof BudgetExhaustedError)) throw err;
      // Never sent, so refused before execution like a 429.
      throw new BinanceApiError(429, ERR.TOO_MANY_REQUESTS, err.message, err.waitMs);
    }
  }

  private async once<T>(
    method: string,
    path: string,
    params: Params,
    signed: boolean,
    parse: Parser<T>,
    opts: SignedOptions,
  ): Promise<T> {
    const timestamp = this.serverNow();
    if (signed) opts.onSign?.(timestamp);
    const query = signed
      ? signedQuery(params, this.o.apiSecret!, timestamp, this.o.recvWindow)
      : encodeParams(params);
    const url = `${this.o.baseUrl}${path}${query ? `?${query}` : ''}`;
    const headers: Record<string, string> = {};
    if (this.o.apiKey) headers['X-MBX-APIKEY'] = this.o.apiKey;
    let res: Response;
    let text: string;
    const sentAt = this.o.budget?.mark() ?? 0;
    try {
      res = await fetch(url, { method, headers, signal: AbortSignal.timeout(this.o.timeoutMs) });
      text = await res.text();
    } catch (err) {
      this.o.hooks?.onRequest?.(path, 'error');
      const why =
        err instanceof Error && err.name === 'TimeoutError'
          ? `timed out after ${this.o.timeoutMs} ms`
          : String((err as Error).cause ?? err);
      throw new BinanceUnknownError(`${method} ${path}: ${why}`);
    }
    this.o.hooks?.onRequest?.(path, String(res.status));
    this.o.budget?.observe((name) => res.headers.get(name), sentAt);
    const weight = Number(res.headers.get('x-mbx-used-weight-1m'));
    if (Number.isFinite(weight) && weight > 0) this.o.hooks?.onUsedWeight?.(weight);
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      if (res.ok) throw new BinanceUnknownError(`${method} ${path}: answer is not JSON`);
      body = null;
    }
    if (res.ok) {
      try {
        return parse(body);
      } catch (err) {
        if (!(err instanceof AnswerShapeError)) throw err;
        throw new BinanceUnknownError(`${method} ${path}: answer not understood: ${err.message}`);
      }
    }
    const e = (body ?? {}) as { code?: unknown; msg?: unknown };
    const code = typeof e.code === 'number' ? e.code : undefined;
    // A 5XX says nothing about execution unless Binance put a code in it (-1006, -1007, ...).
    if (res.status >= 500 && code === undefined)
      throw new BinanceUnknownError(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
    if (res.status === 403) {
      this.blockedUntil = Math.max(this.blockedUntil, this.now() + WAF_BACKOFF_MS);
      this.o.hooks?.onBackoff?.('waf', WAF_BACKOFF_MS);
    }
    const ra = Number(res.headers.get('retry-after'));
    throw new BinanceApiError(
      res.status,
      code,
      typeof e.msg === 'string' ? e.msg : text.slice(0, 200),
      Number.isFinite(ra) && ra >= 0 && res.headers.has('retry-after') ? ra * 1000 : undefined,
    );
  }
}
