// Why the gateway is not ready: its engine is not ready or not reachable, or the engine's event
// stream is not connected. An empty list is ready.
import type { GatewayMetrics } from './metrics.ts';
import { UpstreamError, type Upstream } from './upstream.ts';

export async function gatewayReadiness(upstream: Upstream, metrics: GatewayMetrics): Promise<string[]> {
  const reasons: string[] = [];
  try {
    const res = await upstream.request('GET', '/ready', undefined, 2000);
    if (res.status !== 200) {
      const body = JSON.parse(res.body.toString('utf8')) as { reasons?: string[] };
      reasons.push(...(body.reasons ?? []).map((r) => `engine: ${r}`));
      if (reasons.length === 0) reasons.push(`engine answered ${res.status}`);
    }
  } catch (err) {
    if (!(err instanceof UpstreamError || err instanceof SyntaxError)) throw err;
    reasons.push(
      err instanceof UpstreamError ? `engine unavailable: ${err.message}` : 'engine readiness unreadable',
    );
  }
  if (!upstream.streaming) reasons.push('engine event stream not connected');
  metrics.engineUp.set(reasons.length === 0 ? 1 : 0);
  return reasons;
}
