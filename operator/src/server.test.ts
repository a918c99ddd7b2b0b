import { pino } from 'pino';
import { Counter, Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { buildOperatorServer } from './server.ts';

it('answers the probes and the scraper', async () => {
  const registry = new Registry();
  new Counter({ name: 'veloz_operator_test_total', help: 'a test counter', registers: [registry] }).inc();
  let reasons: string[] = ['informers not synced: pods'];
  const app = buildOperatorServer({ registry, logger: pino({ level: 'silent' }), readiness: () => reasons });
  try {
    const health = await app.inject('/healthz');
    expect([health.statusCode, health.json()]).toEqual([200, { status: 'ok', reasons: [] }]);
    const notReady = await app.inject('/readyz');
    expect([notReady.statusCode, notReady.json()]).toEqual([
      503,
      { status: 'not ready', reasons: ['informers not synced: pods'] },
    ]);
    reasons = [];
    const ready = await app.inject('/readyz');
    expect([ready.statusCode, ready.json()]).toEqual([200, { status: 'ok', reasons: [] }]);
    const metrics = await app.inject('/metrics');
    expect(metrics.headers['content-type']).toBe(registry.contentType);
    expect(metrics.body).toContain('veloz_operator_test_total 1');
  } finally {
    await app.close();
  }
});
