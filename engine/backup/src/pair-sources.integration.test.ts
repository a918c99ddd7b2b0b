// Issue 18 / ADR 0017: a desk restored into more pairs than its backup, with
// restore.fromBackup.pairSources. Each engine runs the restore command line render gives its init
// container (with its pod index substituted as the kubelet does), then starts on the restored WAL;
// it must hold exactly its own source pair's orders and none of another pair's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKUP_MOUNT, WAL_MOUNT, names } from '@veloz/api/names';
import { render } from '@veloz/render/render';
import {
  BackupScratch,
  engineView,
  lastJson,
  orderLoad,
  veloz,
  type EngineView,
} from '@veloz/testing/backup';
import { desk, type Manifest } from '@veloz/testing/desk';

const scratch = new BackupScratch();
let backups: string;
/** What each source pair's engine answered after its backup, by source pair. */
const sources: Array<EngineView & { lastSequence: number; clientIds: string[] }> = [];

const engineEnv = (deployment: string, pair: number, wal: string) => ({
  VELOZ_WAL_DIR: wal,
  VELOZ_DEPLOYMENT_NAME: deployment,
  VELOZ_PAIR_INDEX: String(pair),
  VELOZ_SIM_TICK_MS: '0',
  VELOZ_ORDER_RATE_LIMIT: '1000000',
  VELOZ_ORDER_HISTORY: '100000',
});

const clientIds = (view: EngineView): string[] =>
  (JSON.stringify(view.orders).match(/"(?:src|restored)-p\d-\d+"/g) ?? []).sort();

// The restored desk: 3 pairs from the source desk's 2-pair backup. The CRD keeps pairSources a set
// of at least `pairs` entries, so engine 2 names source pair 2, which the backup does not hold
// (backupPairs: 2 would refuse it at admission).
const restored = desk('restored', {
  pairs: 3,
  restore: { fromBackup: { source: BACKUP_MOUNT, deployment: 'src', pairSources: [1, 0, 2] } },
});

/** The init container's args for pod `index`, its $(VAR)s expanded and mounts moved to local dirs. */
function restoreArgs(index: number, mounts: Record<string, string>): string[] {
  const sts = render(restored, {
    defaultImage: 'veloz:test',
    apiKey: 'k'.repeat(64),
    engineTokens: { trading: 't', admin: 'a', backup: 'b' },
    monitoringApiServed: false,
  }).find((o) => o.kind === 'StatefulSet' && o.metadata?.name === names('restored').engine) as Manifest;
  const init = sts.spec.template.spec.initContainers.find((c: Manifest) => c.name === 'restore') as {
    args: string[];
    env: Array<{ name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  };
  const env: Record<string, string> = {};
  for (const v of init.env)
    if (v.valueFrom?.fieldRef?.fieldPath === "metadata.labels['apps.kubernetes.io/pod-index']")
      env[v.name] = String(index);
  return init.args.map((a) => {
    const expanded = a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string) => env[name] ?? m);
    for (const [from, to] of Object.entries(mounts))
      if (expanded === from || expanded.startsWith(`${from}/`)) return to + expanded.slice(from.length);
    return expanded;
  });
}

beforeAll(async () => {
  backups = await scratch.tmp('veloz-ps-backups-');
  for (const pair of [0, 1]) {
    const e = await scratch.engine(engineEnv('src', pair, await scratch.tmp()));
    // Different orders on each pair: pair 1 gets more, so the sequences differ too.
    const lastSequence = await orderLoad(e.url, 60 + 40 * pair, 4, `src-p${pair}`);
    const b = await veloz([
      'backup',
      '--engine-url',
      e.url,
      '--deployment',
      'src',
      '--pair',
      String(pair),
      '--dest',
      backups,
    ]);
    expect(b.code, b.stderr).toBe(0);
    const view = await engineView(e.url);
    sources.push({ ...view, lastSequence, clientIds: clientIds(view) });
    expect(await e.kill('SIGTERM')).toBe(0);
  }
  expect(sources[0]!.clientIds).toHaveLength(60);
  expect(sources[1]!.clientIds).toHaveLength(100);
}, 600_000);

afterAll(() => scratch.cleanup());

describe('restore.fromBackup.pairSources into more pairs than the backup', () => {
  it('renders --pair $(POD_INDEX) --pair-sources 1,0,2 for every engine', () => {
    expect(restoreArgs(0, {})).toEqual([
      'restore',
      '--from',
      BACKUP_MOUNT,
      '--deployment',
      'restored',
      '--source-deployment',
      'src',
      '--pair',
      '0',
      '--pair-sources',
      '1,0,2',
      '--to',
      WAL_MOUNT,
      '--if-empty',
    ]);
  });

  for (const [index, source] of [
    [0, 1],
    [1, 0],
  ] as const) {
    it(`engine ${index} starts with exactly source pair ${source}'s orders`, async () => {
      const wal = await scratch.tmp();
      const r = await veloz(restoreArgs(index, { [BACKUP_MOUNT]: backups, [WAL_MOUNT]: wal }));
      expect(r.code, r.stderr).toBe(0);
      const out = lastJson<{ result: string; lastSequence: number }>(r);
      expect(out.result).toBe('restored');
      const e = await scratch.engine(engineEnv('restored', index, wal));
      const view = await engineView(e.url);
      expect(view.orders).toEqual(sources[source]!.orders);
      expect(view.positions).toEqual(sources[source]!.positions);
      expect(clientIds(view)).toEqual(sources[source]!.clientIds);
      expect(clientIds(view).every((id) => id.startsWith(`"src-p${source}-`))).toBe(true);
      expect(out.lastSequence).toBeGreaterThanOrEqual(sources[source]!.lastSequence);
      // The engine goes on from the source's sequence: its next order is numbered after it.
      expect(await orderLoad(e.url, 1, 1, `restored-p${index}`)).toBeGreaterThan(out.lastSequence);
      expect(await e.kill('SIGTERM')).toBe(0);
    }, 300_000);
  }

  it('engine 2, whose source pair the backup lacks, restores nothing: its init container fails naming pair 2', async () => {
    const wal = await scratch.tmp();
    const r = await veloz(restoreArgs(2, { [BACKUP_MOUNT]: backups, [WAL_MOUNT]: wal }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('no complete backup of deployment src pair 2');
  }, 120_000);
});
