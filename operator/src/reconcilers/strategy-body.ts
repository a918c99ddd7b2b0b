// The engine's strategy PUT body from a VelozStrategy: the CR's generation is the version, the
// guardrail window (a duration) becomes seconds and resumeAfter (RFC 3339) milliseconds, as the
// engine's HTTP contract takes them.
import type { VelozStrategy } from '@veloz/api/generated/types';
import type { StrategyBody } from '@veloz/api/http/contract';

const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1 };

/** Seconds in a duration such as 90s, 5m or 1h30m (the CRD's rule admits nothing else). */
export function durationSeconds(text: string): number {
  if (!/^(\d+[hms])+$/.test(text)) throw new Error(`"${text}" is not a duration such as 30s, 5m or 1h30m`);
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([hms])/g)) total += Number(n) * UNIT_SECONDS[unit!]!;
  return total;
}

const defined = (o: object): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

export function strategyBody(s: VelozStrategy): StrategyBody {
  const g = s.spec.guardrails;
  const body: StrategyBody = {
    type: s.spec.type,
    symbol: s.spec.symbol,
    version: s.metadata?.generation ?? 1,
    enabled: s.spec.enabled,
    params: defined(s.spec.params),
    risk: defined(s.spec.risk ?? {}),
  };
  if (g) {
    const r = g.maxRejectRatio;
    body.guardrails = defined({
      maxLoss: g.maxLoss,
      maxDrawdown: g.maxDrawdown,
      maxRejectRatio:
        r && defined({ ratio: r.ratio, windowSeconds: durationSeconds(r.window), minOrders: r.minOrders }),
      maxOrdersPerMinute: g.maxOrdersPerMinute,
      staleMarketDataSeconds: g.staleMarketDataSeconds,
    });
  }
  if (s.spec.resumeAfter !== undefined) {
    const ms = Date.parse(s.spec.resumeAfter);
    if (Number.isNaN(ms)) throw new Error(`spec.resumeAfter "${s.spec.resumeAfter}" is not an RFC 3339 time`);
    body.resumeAfter = ms;
  }
  return body;
}
