// API-key authentication: constant-time comparison against every configured key (several keys
// allow rotation), and per-key token buckets. Keys are identified by position, never by value.
import { hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { TokenBucket } from '@veloz/common/token-bucket';

const digest = (s: string): Buffer => hash('sha256', s, 'buffer');

export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(keys: string[]) {
    if (keys.length === 0) throw new Error('at least one API key is required');
    this.digests = keys.map(digest);
  }

  /**
   * The id ("key0", "key1", ...) of the key presented, or undefined. Hashing first makes every
   * comparison the same length, and every key is compared, so timing reveals nothing.
   */
  match(presented: string | undefined): string | undefined {
    if (!presented) return undefined;
    const d = digest(presented);
    let found = -1;
    for (let i = 0; i < this.digests.length; i++) if (timingSafeEqual(d, this.digests[i]!)) found = i;
    return found >= 0 ? `key${found}` : undefined;
  }
}

/** The key from `Authorization: Bearer KEY` or `X-API-Key: KEY`. */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const x = headers['x-api-key'];
  return Array.isArray(x) ? x[0] : x || undefined;
}

export class KeyRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly rate: number;
  private readonly now: (() => number) | undefined;

  constructor(ratePerSecond: number, now?: () => number) {
    this.rate = ratePerSecond;
    this.now = now;
  }

  /** 0 when the request may pass, else milliseconds until it could. */
  take(keyId: string): number {
    let b = this.buckets.get(keyId);
    if (!b) {
      b = new TokenBucket(this.rate, this.rate, this.now);
      this.buckets.set(keyId, b);
    }
    return b.tryTake() ? 0 : Math.max(1, b.waitMs());
  }
}
