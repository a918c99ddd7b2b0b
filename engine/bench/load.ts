// A closed-loop HTTP load generator: `concurrency` keep-alive connections, each sending the
// next request as soon as the previous answer arrives, for a fixed time.
import http from 'node:http';

export interface LoadResult {
  requests: number;
  errors: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  statuses: Record<number, number>;
}

export async function load(
  url: string,
  body: (i: number) => unknown,
  concurrency: number,
  durationMs: number,
  headers: Record<string, string> = {},
  /** Stop after this many requests even before `durationMs` (for filling a state up). */
  maxRequests = Infinity,
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(url);
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let errors = 0;
  let n = 0;
  const end = performance.now() + durationMs;
  const one = (payload: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
            ...headers,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end && n < maxRequests) {
        const payload = JSON.stringify(body(n++));
        const t = performance.now();
        try {
          const status = await one(payload);
          statuses[status] = (statuses[status] ?? 0) + 1;
          latencies.push(performance.now() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return {
    requests: latencies.length,
    errors,
    perSecond: latencies.length / elapsed,
    p50ms: q(0.5),
    p99ms: q(0.99),
    statuses,
  };
}
