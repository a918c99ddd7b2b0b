// How Binance reads a request's parameters (rest-api.md, "General Information on Endpoints" and
// "SIGNED Endpoint Examples"): GET parameters are in the query string; POST, PUT and DELETE ones
// may be in the query string, in an application/x-www-form-urlencoded body, or both (the query
// string wins for a parameter sent in both). A signature covers the query string concatenated
// without separator to the body, less the signature parameter itself.
import type { IncomingMessage } from 'node:http';

export interface RequestParams {
  params: URLSearchParams;
  /** The exact text the signature must cover, when a signature was sent. */
  signedPayload: string | undefined;
  signature: string | undefined;
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Removes `signature=...` from a raw parameter string; undefined when it is not there. */
function withoutSignature(raw: string): { rest: string; signature: string } | undefined {
  const parts = raw.split('&');
  const i = parts.findIndex((p) => p.startsWith('signature='));
  if (i < 0) return undefined;
  const signature = decodeURIComponent(parts[i]!.slice('signature='.length));
  parts.splice(i, 1);
  return { rest: parts.join('&'), signature };
}

export function requestParams(
  method: string,
  rawQuery: string,
  body: string,
  contentType: string,
): RequestParams {
  const form = method !== 'GET' && contentType.startsWith('application/x-www-form-urlencoded') ? body : '';
  const params = new URLSearchParams(form);
  for (const [k, v] of new URLSearchParams(rawQuery)) params.set(k, v);
  const inQuery = withoutSignature(rawQuery);
  const inBody = inQuery ? undefined : withoutSignature(form);
  const signature = inQuery?.signature ?? inBody?.signature;
  const signedPayload = inQuery ? inQuery.rest + form : inBody ? rawQuery + inBody.rest : undefined;
  return { params, signedPayload, signature };
}
