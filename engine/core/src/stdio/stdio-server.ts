// stdio mode: one JSON request per line on stdin, one JSON answer per line on stdout, events
// as lines too. A request names an HTTP route, so both modes share schemas and handlers:
//   {"id":1,"method":"POST","path":"/api/orders","body":{...}}
//   -> {"id":1,"status":201,"body":{...}}
// Events: {"event":"order","eventId":7,"data":{...}}. A bad line gets an error line, never a crash.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { EventHub } from '../engine/events.ts';

interface StdioRequest {
  id?: string | number;
  method?: string;
  path?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE']);

export async function runStdio(
  app: FastifyInstance,
  events: EventHub,
  input: Readable,
  output: Writable,
  log: Logger,
): Promise<void> {
  const write = (obj: unknown): void => {
    output.write(`${JSON.stringify(obj)}\n`);
  };
  const unsubscribe = events.subscribe((e) => write({ event: e.type, eventId: e.id, data: e.data }));
  const rl = createInterface({ input, crlfDelay: Infinity });
  const inflight = new Set<Promise<void>>();
  let lineNo = 0;
  try {
    for await (const line of rl) {
      lineNo += 1;
      if (!line.trim()) continue;
      let req: StdioRequest;
      try {
        const parsed: unknown = JSON.parse(line);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new Error('not a JSON object');
        req = parsed;
      } catch (err) {
        write({
          error: `line ${lineNo}: invalid JSON: ${err instanceof Error ? err.message : String(err)}`,
          line: lineNo,
        });
        continue;
      }
      const method = typeof req.method === 'string' ? req.method.toUpperCase() : '';
      if (!METHODS.has(method) || typeof req.path !== 'string' || !req.path.startsWith('/')) {
        write({
          id: req.id ?? null,
          error: 'a request needs "method" (GET, POST, PUT, DELETE) and "path" (starting with /)',
          line: lineNo,
        });
        continue;
      }
      const p = app
        .inject({
          method: method as 'GET',
          url: req.path,
          headers: {
            ...(req.headers ?? {}),
            ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(req.body !== undefined ? { payload: JSON.stringify(req.body) } : {}),
        })
        .then((res) => {
          let body: unknown = res.body;
          try {
            body = res.body ? JSON.parse(res.body) : null;
          } catch {
            // Non-JSON answers (metrics) are passed on as text.
          }
          write({ id: req.id ?? null, status: res.statusCode, body });
        })
        .catch((err: unknown) => {
          log.error({ err }, 'stdio request failed');
          write({ id: req.id ?? null, status: 500, body: { error: 'internal error' } });
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await Promise.all(inflight);
  } finally {
    unsubscribe();
  }
}
