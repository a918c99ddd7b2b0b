// The Argo CD health checks, run by a real Lua interpreter (Argo CD runs gopher-lua, Lua 5.1; the
// scripts keep to that subset): the sample statuses of each health_test.yaml (Argo CD's own test
// format), and statuses made by the operator's real status function.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { VELOZ_DEPLOYMENT } from '@veloz/api/crd/crds';
import { applyDefaults } from '@veloz/api/crd/defaults';
import type { VelozDeployment } from '@veloz/api/generated/types';
import { deletingStatus } from '@veloz/operator/status/deletion-status';
import { computeDeploymentStatus, type ObservedDeployment } from '@veloz/operator/status/deployment-status';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HEALTH_CHECKS, HEALTH_DIR, healthLuaPath } from './generators/argocd.ts';
import { names } from '@veloz/api/names';

const desk = names('desk');

const ROOT = join(import.meta.dirname, '..');
const CANDIDATES = ['lua5.1', 'lua5.4', 'lua5.3', 'lua', 'luajit'];

const found = () => CANDIDATES.find((c) => spawnSync(c, ['-v'], { stdio: 'ignore' }).status === 0);

/** A Lua interpreter; installs Debian's lua5.1 (Argo CD's dialect) when none is there and apt-get may be used. */
function lua(): { bin?: string; why?: string } {
  const have = found();
  if (have) return { bin: have };
  if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0)
    return { why: 'no Lua interpreter and cannot apt-get install one (not root, or no apt-get)' };
  let res = spawnSync('apt-get', ['install', '-y', '-q', 'lua5.1'], { encoding: 'utf8' });
  if (res.status !== 0) {
    spawnSync('apt-get', ['update', '-q'], { stdio: 'ignore' });
    res = spawnSync('apt-get', ['install', '-y', '-q', 'lua5.1'], { encoding: 'utf8' });
  }
  const now = found();
  return now
    ? { bin: now }
    : { why: `apt-get install lua5.1 failed: ${res.stderr.trim().split('\n').pop()}` };
}

const interpreter = lua();

/** A JSON-like value as a Lua table constructor, as Argo CD hands the object to the script. */
function toLua(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'string') return JSON.stringify(v).replace(/\\u([0-9a-f]{4})/gi, (_, h) => `\\u{${h}}`);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `{${v.map(toLua).join(', ')}}`;
  return `{${Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== null && x !== undefined)
    .map(([k, x]) => `[${JSON.stringify(k)}] = ${toLua(x)}`)
    .join(', ')}}`;
}

function health(kind: string, obj: unknown): { status: string; message: string } {
  const script = readFileSync(join(ROOT, healthLuaPath({ group: 'veloz.io', kind })), 'utf8');
  // Argo CD sets `obj` as a global and runs the script as a function body.
  const program = `obj = ${toLua(obj)}\nlocal hs = (function()\n${script}\nend)()\nio.write(hs.status, "\\n", hs.message or "")\n`;
  const res = spawnSync(interpreter.bin!, ['-'], { input: program, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`lua failed: ${res.stderr}`);
  const [status = '', ...rest] = res.stdout.split('\n');
  return { status, message: rest.join('\n') };
}

interface HealthTest {
  tests: Array<{ healthStatus: { status: string; message: string }; inputPath: string }>;
}

describe.skipIf(!interpreter.bin)(
  interpreter.bin
    ? `Argo CD health checks (${interpreter.bin})`
    : `Argo CD health checks: SKIPPED, ${interpreter.why}`,
  () => {
    for (const c of HEALTH_CHECKS) {
      const dir = dirname(join(ROOT, healthLuaPath(c)));
      const spec = parse(readFileSync(join(dir, 'health_test.yaml'), 'utf8')) as HealthTest;
      it.each(spec.tests.map((t) => [t.inputPath, t] as const))(`${c.kind} %s`, (_, t) => {
        const obj = parse(readFileSync(join(dir, t.inputPath), 'utf8'));
        expect(health(c.kind, obj)).toEqual(t.healthStatus);
      });
    }

    it('covers Healthy, Progressing, Degraded and Suspended for both kinds', () => {
      for (const c of HEALTH_CHECKS) {
        const spec = parse(
          readFileSync(join(ROOT, HEALTH_DIR, c.group, c.kind, 'health_test.yaml'), 'utf8'),
        ) as HealthTest;
        const statuses = new Set(spec.tests.map((t) => t.healthStatus.status));
        expect([...statuses].sort()).toEqual(['Degraded', 'Healthy', 'Progressing', 'Suspended']);
      }
    });

    describe('VelozDeployment statuses computed by the operator', () => {
      const NOW = '2026-01-10T10:00:00.000Z';
      const deployment = (spec: Record<string, unknown>, generation = 3): VelozDeployment =>
        applyDefaults(VELOZ_DEPLOYMENT.schema, {
          apiVersion: 'veloz.io/v1alpha1',
          kind: 'VelozDeployment',
          metadata: { name: 'desk', namespace: 'trading', generation },
          spec: { pairs: 2, ...spec },
        }) as VelozDeployment;
      const sts = (ready: number, replicas = 2) => ({
        generation: 1,
        observedGeneration: 1,
        replicas,
        readyReplicas: ready,
        updatedReplicas: replicas,
      });
      const observed = (over: Partial<ObservedDeployment> = {}): ObservedDeployment => ({
        engine: sts(2),
        gateway: sts(2),
        readyPods: new Set([desk.enginePod(0), desk.enginePod(1), desk.gatewayPod(0), desk.gatewayPod(1)]),
        boundClaims: new Set([desk.walClaim(0), desk.walClaim(1)]),
        credentials: { ready: true, reason: 'SecretFound', message: '' },
        monitoringServed: true,
        wal: new Map(),
        lastBackup: { time: '2026-01-10T09:58:00Z', result: 'Succeeded' },
        applyError: undefined,
        ...over,
      });
      const withStatus = (d: VelozDeployment, o: ObservedDeployment) => ({
        ...d,
        status: computeDeploymentStatus(d, o, NOW),
      });

      it.each([
        ['every pair ready', deployment({}), observed(), 'Healthy'],
        [
          'rolling out',
          deployment({}),
          observed({ engine: sts(1), readyPods: new Set([desk.enginePod(0), desk.gatewayPod(0)]) }),
          'Progressing',
        ],
        ['paused', deployment({ paused: true }), observed(), 'Suspended'],
        [
          'hibernated',
          deployment({ pairs: 0 }),
          observed({ engine: sts(0, 0), gateway: sts(0, 0), readyPods: new Set(), lastBackup: undefined }),
          'Suspended',
        ],
        [
          'credentials missing',
          deployment({
            execution: { mode: 'binance_testnet_spot', credentialsSecretRef: { name: 'binance' } },
          }),
          observed({
            credentials: { ready: false, reason: 'SecretNotFound', message: 'Secret binance not found' },
          }),
          'Degraded',
        ],
        [
          'another desk holds the account',
          deployment({
            execution: { mode: 'binance_testnet_spot', credentialsSecretRef: { name: 'binance' } },
          }),
          observed({
            engine: sts(0, 0),
            gateway: sts(0, 0),
            readyPods: new Set(),
            account: { state: 'Conflict', lease: 'ops/veloz-account-0', holder: 'trading/desk' },
          }),
          'Degraded',
        ],
        [
          'apply failed',
          deployment({}),
          observed({ applyError: 'StatefulSet desk-engine: forbidden' }),
          'Degraded',
        ],
        [
          "a pair's engine on a node that is not Ready",
          deployment({}),
          observed({
            readyPods: new Set([desk.enginePod(0), desk.gatewayPod(0), desk.gatewayPod(1)]),
            nodes: {
              readable: true,
              engines: new Map([
                [0, { pod: desk.enginePod(0), node: 'w1', readiness: { status: 'True' } }],
                [1, { pod: desk.enginePod(1), node: 'w2', readiness: { status: 'Unknown' } }],
              ]),
            },
          }),
          'Degraded',
        ],
        [
          'last backup failed',
          deployment({}),
          observed({
            lastBackup: { time: '2026-01-10T09:58:00Z', result: 'Failed', message: 'no space left' },
          }),
          'Degraded',
        ],
      ] as const)('%s → %s', (_, d, o, want) => {
        expect(health('VelozDeployment', withStatus(d, o)).status).toBe(want);
      });

      it('a deletion under way is Progressing; one waiting on an engine that does not answer, Degraded', () => {
        const d = withStatus(deployment({}), observed());
        // Marking it for deletion bumps the generation.
        const marked = { ...d, metadata: { ...d.metadata, generation: 4, deletionTimestamp: NOW } };
        const stopping = { ...marked, status: deletingStatus(marked, [{ name: 'btc-grid' }], NOW) };
        expect(health('VelozDeployment', stopping)).toEqual({
          status: 'Progressing',
          message:
            'StrategiesStopping: stopping VelozStrategy btc-grid and cancelling their open orders first',
        });
        const why = 'cannot stop the strategy yet: engine trading/desk-engine-1: connect ECONNREFUSED';
        const blocked = {
          ...marked,
          status: deletingStatus(marked, [{ name: 'btc-grid', blocked: why }], NOW),
        };
        expect(health('VelozDeployment', blocked)).toMatchObject({
          status: 'Degraded',
          message: expect.stringMatching(
            /^CleanupBlocked: VelozStrategy btc-grid: cannot stop the strategy yet: /,
          ),
        });
        // Before the operator has looked at it, still Progressing.
        expect(health('VelozDeployment', marked)).toEqual({
          status: 'Progressing',
          message: 'Pending deletion',
        });
      });

      it('a newer generation than the status is Progressing, whatever the status says', () => {
        const obj = withStatus(deployment({}), observed());
        obj.metadata = { ...obj.metadata, generation: 4 };
        expect(health('VelozDeployment', obj)).toEqual({
          status: 'Progressing',
          message: 'Waiting for the operator to observe generation 4 (status is for 3)',
        });
      });
    });
  },
);
