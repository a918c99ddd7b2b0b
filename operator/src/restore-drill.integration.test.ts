// Restore drills end to end (issue 21, ADR 0024): a real engine process under order load, real
// `veloz backup` and `veloz restore --drill` runs, and the operator (in this process) on a real API
// server (its own local cluster). The drill Jobs are made from the operator's CronJob by the
// real Job controller; their pods run on kwok fake nodes, where nothing runs, so the test leaves
// in each pod what the drill container leaves there in a real cluster: its exit and its JSON
// report as the termination message, here the report of a real drill of a real backup.
import type { Condition } from '@veloz/api/generated/types';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJson, orderLoad, veloz, type CliResult } from '@veloz/testing/backup';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';
import { PrivateCluster, clusterBinariesBuilt, until } from '@veloz/testing/private-cluster';
import { loadOperatorConfig } from './config.ts';
import { EngineUnreachableError, type EngineAccess } from './engine-access.ts';
import { startOperator, type RunningOperator } from './manager.ts';

const NS = 'desk-drill';
const built = clusterBinariesBuilt();

interface DeskStatus {
  conditions?: Condition[];
  lastRestoreTest?: {
    time: string;
    result: string;
    entriesReplayed: number;
    durationSeconds: number;
    backups: string[];
    message: string;
  };
}
interface Pod {
  metadata: { name: string };
  status?: { phase?: string };
}

describe.skipIf(!built)(
  built
    ? 'restore drills on a local cluster'
    : 'restore drills on a local cluster: SKIPPED, the cluster binaries are not built (run hack/build-k8s.sh)',
  () => {
    const cluster = new PrivateCluster('drill');
    const kubectl = cluster.kubectl.bind(cluster);
    const ok = cluster.ok.bind(cluster);
    const dirs: string[] = [];
    let engine: EngineProcess | undefined;
    let operator: RunningOperator | undefined;
    let good: CliResult;
    let damaged: CliResult;
    let backupSequence: number;

    const tmp = async () => {
      const d = await mkdtemp(join(tmpdir(), 'veloz-opdrill-'));
      dirs.push(d);
      return d;
    };
    const status = (): DeskStatus | undefined => {
      const r = kubectl(['-n', NS, 'get', 'vzd/desk', '-o', 'json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as { status?: DeskStatus }).status : undefined;
    };
    const verified = () => status()?.conditions?.find((c) => c.type === 'BackupVerified');
    let pokes = 0;
    const poke = () => ok(kubectl(['-n', NS, 'annotate', '--overwrite', 'vzd/desk', `test/poke=${++pokes}`]));

    /** A drill Job from the operator's CronJob, its pod left as a drill container leaves it. */
    async function runDrillJob(job: string, report: CliResult): Promise<void> {
      ok(kubectl(['-n', NS, 'create', 'job', `--from=cronjob/desk-restore-drill`, job]));
      const pod = await until(`a pod of ${job}`, () => {
        const r = kubectl(['-n', NS, 'get', 'pods', '-l', `job-name=${job}`, '-o', 'json']);
        const items = r.code === 0 ? (JSON.parse(r.stdout) as { items: Pod[] }).items : [];
        // kwok may run it to completion by itself (its pod-complete stage for Job pods).
        return items.find((p) => ['Running', 'Succeeded', 'Failed'].includes(p.status?.phase ?? ''));
      });
      const terminal = pod.status?.phase !== 'Running';
      const exitCode = report.code ?? 1;
      const now = new Date().toISOString();
      ok(
        kubectl([
          '-n',
          NS,
          'patch',
          'pod',
          pod.metadata.name,
          '--subresource=status',
          '--type=merge',
          '-p',
          JSON.stringify({
            status: {
              // A terminal phase cannot change; the operator reads the report, not the phase.
              ...(terminal ? {} : { phase: exitCode === 0 ? 'Succeeded' : 'Failed' }),
              containerStatuses: [
                {
                  name: 'drill-0',
                  image: 'veloz:test',
                  imageID: '',
                  ready: false,
                  restartCount: 0,
                  state: {
                    terminated: {
                      exitCode,
                      reason: exitCode === 0 ? 'Completed' : 'Error',
                      message: report.stdout.trim().split('\n').at(-1),
                      startedAt: now,
                      finishedAt: now,
                    },
                  },
                },
              ],
            },
          }),
        ]),
      );
    }

    beforeAll(async () => {
      // A real backup of a real engine, and real drills of it: intact and with a damaged part.
      const wal = await tmp();
      const dest = await tmp();
      engine = await startEngineProcess(
        {
          VELOZ_WAL_DIR: wal,
          VELOZ_DEPLOYMENT_NAME: 'desk',
          VELOZ_PAIR_INDEX: '0',
          VELOZ_SIM_TICK_MS: '0',
          VELOZ_ORDER_RATE_LIMIT: '1000000',
          VELOZ_RISK_MAX_OPEN_ORDERS: '1000000',
          VELOZ_WAL_MAX_SIZE: '65536',
        },
        // The cluster shares the machine: an engine may take a while to start.
        120_000,
      );
      await orderLoad(engine.url, 300, 8, 'opdrill');
      const b = await veloz([
        'backup',
        '--engine-url',
        engine.url,
        '--deployment',
        'desk',
        '--pair',
        '0',
        '--dest',
        dest,
      ]);
      expect(b.code, b.stderr).toBe(0);
      backupSequence = lastJson<{ sequence: number }>(b).sequence;
      const drill = () =>
        veloz([
          'restore',
          '--drill',
          '--from',
          dest,
          '--deployment',
          'desk',
          '--pair',
          '0',
          '--to',
          dirs[0]!,
        ]);
      good = await drill();
      expect(good.code, good.stderr).toBe(0);
      const segs = join(dest, 'desk', '0', 'segments');
      const part = (await readdir(segs)).sort().at(-1)!;
      const bytes = await readFile(join(segs, part));
      bytes[bytes.length - 3]! ^= 0x55;
      await writeFile(join(segs, part), bytes);
      damaged = await drill();
      expect(damaged.code).toBe(1);

      cluster.up({ crds: true });
      ok(kubectl(['create', 'namespace', NS]));
      cluster.apply(
        {
          apiVersion: 'veloz.io/v1alpha1',
          kind: 'VelozDeployment',
          metadata: { name: 'desk' },
          spec: { pairs: 1, backup: { verify: { schedule: '30 3 * * *' } } },
        },
        NS,
      );
      const cfg = loadOperatorConfig(
        ['--namespaces', NS, '--kubeconfig', cluster.kubeconfig, '--metrics-port', '0'],
        {},
      );
      const access: EngineAccess = {
        call: (ns: string, pod: string) =>
          Promise.reject(new EngineUnreachableError(`engine ${ns}/${pod}: a kwok fake`)),
      };
      operator = await startOperator(cfg, pino({ level: 'silent' }), access);
    }, 900_000);

    afterAll(async () => {
      await operator?.stop();
      cluster.down();
      await engine?.kill('SIGKILL');
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    }, 120_000);

    it('renders the drill CronJob, and says no drill has finished yet', async () => {
      await until('the CronJob desk-restore-drill', () =>
        kubectl(['-n', NS, 'get', 'cronjob/desk-restore-drill']).code === 0 ? true : undefined,
      );
      const c = await until('BackupVerified', verified);
      expect(c).toMatchObject({ status: 'Unknown', reason: 'NoDrillYet' });
    });

    it('sets BackupVerified=True and status.lastRestoreTest from a drill that replayed a real backup', async () => {
      await runDrillJob('drill-good', good);
      const c = await until('BackupVerified=True', () =>
        verified()?.status === 'True' ? verified() : (poke(), undefined),
      );
      expect(c.reason).toBe('DrillSucceeded');
      expect(c.message).toContain(`sequence ${backupSequence} matches the manifest`);
      expect(c.message).toContain('order-state digest sha256:');
      const t = status()!.lastRestoreTest!;
      expect(t).toMatchObject({ result: 'Succeeded' });
      expect(t.entriesReplayed).toBeGreaterThan(0);
      expect(t.backups).toEqual([`0/${lastJson<{ backup: string }>(good).backup}`]);
    });

    it('sets BackupVerified=False naming what mismatched when the backup is damaged', async () => {
      await runDrillJob('drill-damaged', damaged);
      const c = await until('BackupVerified=False', () =>
        verified()?.status === 'False' ? verified() : (poke(), undefined),
      );
      expect(c.reason).toBe('RestoreFailed');
      expect(c.message).toMatch(/pair 0: FAILED \(RestoreFailed\): backup \S+ is damaged: .*segments\//);
      expect(status()!.lastRestoreTest).toMatchObject({ result: 'Failed' });
      const events = JSON.parse(ok(kubectl(['-n', NS, 'get', 'events', '-o', 'json']))) as {
        items: Array<{ reason: string; message: string }>;
      };
      expect(
        events.items.some(
          (e) => e.reason === 'RestoreFailed' && e.message.startsWith('BackupVerified=False'),
        ),
      ).toBe(true);
    });
  },
);
