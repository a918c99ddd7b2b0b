// Prometheus' own linter, `promtool check metrics`, on what /metrics serves: the engine app after
// an order (with the exchange metrics a Binance engine adds), the gateway and the operator. It
// needs promtool built from the Go module proxy (hack/build-k8s.sh promtool) and is skipped
// without it; the same rules, written in TypeScript, always run in monitoring.test.ts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngineMetrics } from '@veloz/engine/metrics/engine-metrics';
import { createExchangeMetrics } from '@veloz/engine/exchange/metrics';
import { createGatewayMetrics } from '@veloz/gateway/metrics';
import { createOperatorMetrics } from '@veloz/operator/runtime/metrics';
import { startFixture, type Fixture } from '@veloz/testing/engine-fixture';

const ROOT = join(import.meta.dirname, '..');

function promtool(): string | undefined {
  const res = spawnSync(join(ROOT, 'hack', 'build-k8s.sh'), ['--print-dir'], { encoding: 'utf8' });
  const bin = join(res.stdout.trim(), 'bin', 'promtool');
  return res.status === 0 && existsSync(bin) ? bin : undefined;
}

const tool = promtool();

/** promtool's findings on a /metrics text (it reads stdin; exit 0 and no output when clean). */
function check(text: string): string {
  const res = spawnSync(tool!, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return `${res.stdout}${res.stderr}`.trim() + (res.status === 0 ? '' : `\n(exit ${res.status})`);
}

describe.skipIf(!tool)(
  tool
    ? 'promtool check metrics'
    : 'promtool check metrics: SKIPPED, promtool is not built (hack/build-k8s.sh promtool)',
  () => {
    let fx: Fixture | undefined;
    afterAll(async () => fx?.close());

    it('finds nothing to complain about in the engine’s /metrics', async () => {
      fx = await startFixture();
      const order = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', quantity: '0.010', price: '40000.00' };
      expect((await fx.app.inject({ method: 'POST', url: '/api/orders', payload: order })).statusCode).toBe(
        201,
      );
      const res = await fx.app.inject('/metrics');
      expect(res.statusCode).toBe(200);
      expect(check(res.body)).toBe('');
    });

    it('nor in the exchange metrics a Binance engine adds', async () => {
      const m = createEngineMetrics();
      const x = createExchangeMetrics(m.registry);
      x.requests.inc({ endpoint: '/api/v3/order', status: '200' });
      x.gaps.inc({ symbol: 'BTCUSDT' });
      expect(check(await m.registry.metrics())).toBe('');
    });

    it('nor in the gateway’s and the operator’s', async () => {
      const g = createGatewayMetrics();
      g.upstreamErrors.inc({ kind: 'refused' });
      g.httpDuration.observe({ method: 'GET', route: '/api/orders_state', status: '200' }, 0.01);
      expect(check(await g.registry.metrics())).toBe('');
      const o = createOperatorMetrics();
      o.reconciles.inc({ kind: 'VelozDeployment', outcome: 'success' });
      expect(check(await o.registry.metrics())).toBe('');
    });

    it('and it does catch a counter without _total (the check bites)', () => {
      const text = '# HELP veloz_fills Fills\n# TYPE veloz_fills counter\nveloz_fills 1\n';
      expect(check(text)).toMatch(/counter metrics should have "_total" suffix/);
    });
  },
);
