import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MonitoringApi } from './monitoring-discovery.ts';

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
});
