import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  CERT_MANAGER_KINDS,
  MONITORING_KINDS,
  MonitoringInformers,
  type InformerHost,
} from './monitoring-informers.ts';

function host(closeFails = false) {
  const calls: string[] = [];
  const kinds = (ks: ReadonlyArray<{ plural: string }>) => ks.map((k) => k.plural).join(',');
  const h: InformerHost = {
    startInformers: (ks) => void calls.push(`start ${kinds(ks)}`),
    closeInformers: async (ks) => {
      calls.push(`close ${kinds(ks)}`);
      if (closeFails) throw new Error('watch would not end');
    },
    requeueWatchersOf: (ks) => void calls.push(`wake ${kinds(ks)}`),
  };
  return { h, calls };
}

const lines: Array<{ msg: string }> = [];
const log = pino(
  { level: 'warn' },
  { write: (l: string) => void lines.push(JSON.parse(l) as { msg: string }) },
);

describe('MonitoringInformers', () => {
  it('watches the Prometheus Operator kinds while their API is served, waking their watchers on each change', async () => {
    const { h, calls } = host();
    const m = new MonitoringInformers(h, log);
    m.init(false);
    expect(calls).toEqual([]);
    m.onChange(true);
    m.onChange(true);
    m.onChange(false);
    await m.settled();
    expect(MONITORING_KINDS.map((k) => k.plural)).toEqual(['servicemonitors', 'prometheusrules']);
    expect(calls).toEqual([
      'start servicemonitors,prometheusrules',
      'wake servicemonitors,prometheusrules',
      'wake servicemonitors,prometheusrules',
      'close servicemonitors,prometheusrules',
      'wake servicemonitors,prometheusrules',
    ]);
  });

  it('switches cert-manager’s Certificate the same way, alone', () => {
    const { h, calls } = host();
    const m = new MonitoringInformers(h, log, CERT_MANAGER_KINDS);
    m.init(true);
    m.onChange(false);
    expect(calls).toEqual(['start certificates', 'close certificates', 'wake certificates']);
  });

  it('starts them at once when served at start, without waking anyone (nothing runs yet)', () => {
    const { h, calls } = host();
    new MonitoringInformers(h, log).init(true);
    expect(calls).toEqual(['start servicemonitors,prometheusrules']);
  });

  it('logs informers that fail to close (the cache stopped reading them already)', async () => {
    const { h } = host(true);
    const m = new MonitoringInformers(h, log);
    m.init(true);
    m.onChange(false);
    await m.settled();
    expect(lines.map((l) => l.msg)).toContain('closing the monitoring informers failed');
  });
});
