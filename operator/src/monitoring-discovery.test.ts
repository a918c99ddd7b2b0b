import { FakeClock } from '@veloz/testing/fake-clock';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  certManagerApiServed,
  discoverAtStart,
  monitoringApiServed,
  MonitoringApi,
} from './monitoring-discovery.ts';

function api(served: () => boolean | Error) {
  const changes: boolean[] = [];
  const m = new MonitoringApi({
    client: {
      serves: async () => {
        const s = served();
        if (s instanceof Error) throw s;
        return s;
      },
    },
    log: pino({ level: 'silent' }),
    intervalMs: 5,
    onChange: (s) => changes.push(s),
  });
  return { m, changes };
}

describe('MonitoringApi', () => {
  it('reports a change after the first answer, in both directions', async () => {
    let served = false;
    const { m, changes } = api(() => served);
    expect(await m.served()).toBe(false);
    await m.check();
    expect(changes).toEqual([]);
    served = true;
    expect(await m.check()).toBe(true);
    expect(await m.served()).toBe(true);
    served = false;
    await m.check();
    expect(changes).toEqual([true, false]);
  });

  it('re-checks on its timer until stopped, keeping the last answer when a check fails', async () => {
    let answer: boolean | Error = false;
    const { m, changes } = api(() => answer);
    await m.check();
    m.start();
    answer = new Error('API server restarting');
    await new Promise((r) => setTimeout(r, 30));
    expect(await m.served()).toBe(false);
    answer = true;
    for (let i = 0; i < 100 && changes.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(changes).toEqual([true]);
    m.stop();
    answer = false;
    await new Promise((r) => setTimeout(r, 30));
    expect(changes).toEqual([true]);
  });

  it('asks about Certificates for cert-manager, about ServiceMonitors and PrometheusRules for monitoring', async () => {
    const asked: string[] = [];
    const client = {
      serves: async (group: string, version: string, plural: string) => {
        asked.push(`${group}/${version} ${plural}`);
        return true;
      },
    };
    await certManagerApiServed(client);
    await monitoringApiServed(client);
    expect(asked).toEqual([
      'cert-manager.io/v1 certificates',
      'monitoring.coreos.com/v1 servicemonitors',
      'monitoring.coreos.com/v1 prometheusrules',
    ]);
    const m = new MonitoringApi({
      client: { serves: async (_g, _v, plural) => plural === 'certificates' },
      log: pino({ level: 'silent' }),
      intervalMs: 5,
      onChange: () => undefined,
      probe: certManagerApiServed,
      api: 'cert-manager.io/v1',
    });
    expect(await m.served()).toBe(true);
  });
});

describe('discoverAtStart', () => {
  const failing = (failures: number) => {
    let calls = 0;
    return {
      calls: () => calls,
      check: async () => {
        if (++calls <= failures) throw new Error('connect ECONNREFUSED');
        return true;
      },
    };
  };

  it('keeps asking while the API server is unreachable, with growing delays', async () => {
    const clock = new FakeClock();
    const api = failing(3);
    const lines: Array<{ msg: string; delayMs: number }> = [];
    const log = pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l) as never) });
    const answer = discoverAtStart(api, log, clock);
    await clock.advance(10_000);
    expect(await answer).toBe(true);
    expect(api.calls()).toBe(4);
    expect(lines.map((l) => l.msg)).toEqual(Array(3).fill('API discovery failed at start; retrying'));
    expect(lines[2]!.delayMs).toBeGreaterThan(lines[0]!.delayMs);
  });

  it('gives up after nine attempts with the last error', async () => {
    const clock = new FakeClock();
    const api = failing(100);
    const answer = discoverAtStart(api, pino({ level: 'silent' }), clock);
    const failed = expect(answer).rejects.toThrow('ECONNREFUSED');
    await clock.advance(120_000, 1_000);
    await failed;
    expect(api.calls()).toBe(9);
  });
});
