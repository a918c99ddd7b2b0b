// Binance SIGNED requests (HMAC-SHA256 API keys): the signature is the hex HMAC of the exact
// query string (and form body) the request carries, so the string is built once and reused.
import { createHmac } from 'node:crypto';

export type Params = Record<string, string | number | boolean | undefined>;

/** `a=1&b=2` in insertion order, skipping undefined values, percent-encoded like a form. */
export function encodeParams(params: Params): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.join('&');
}

export function hmacSha256Hex(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

/**
 * The full signed query: `params&recvWindow=..&timestamp=..&signature=..`. `totalParams` in
 * Binance's words is the query string concatenated with the body; we send everything in the
 * query string, so the two are the same.
 */
export function signedQuery(params: Params, secret: string, timestamp: number, recvWindow: number): string {
  const query = encodeParams({ ...params, recvWindow, timestamp });
  return `${query}&signature=${hmacSha256Hex(query, secret)}`;
}
