// The chart against a real API server (its own local cluster, hack/cluster.sh): every value set
// accepted by `kubectl apply --dry-run=server`; helm install, upgrade and uninstall with CRs that
// survive it; and the operator itself run with the chart's ServiceAccount token, so a permission
// missing from the generated RBAC shows up as a 403. Pods are kwok fakes: nothing runs in them.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHART,
  ROOT,
  VALUE_SETS,
  clusterBinariesBuilt,
  helmTemplate,
  run,
  toolsDir,
} from '@veloz/testing/chart-helm';
import { ENGINE_TOKEN_MOUNT, WAL_MOUNT, names } from '@veloz/api/names';
import { startEngineProcess } from '@veloz/testing/engine-process';
import { renderedEngineEnv } from '@veloz/testing/rendered-engine';
import { until as waitFor } from '@veloz/testing/until';

const built = clusterBinariesBuilt();
const NS = 'veloz-system';
const RELEASE = 'veloz-operator';

describe.skipIf(!built)(
  built
    ? 'chart on a local cluster'
    : 'chart on a local cluster: SKIPPED, the cluster binaries are not built (hack/build-k8s.sh --check fails; run hack/build-k8s.sh)',
  () => {
    const state = mkdtempSync(join(tmpdir(), 'veloz-chart-'));
    const clusterEnv = { VELOZ_CLUSTER_NAME: `chart-${process.pid}`, VELOZ_CLUSTER_STATE: state };
    const tools = toolsDir() ?? '';
    let kubeconfig = '';
    const kubectl = (args: string[], input?: string) =>
      run(join(tools, 'kubectl'), args, { KUBECONFIG: kubeconfig }, input);
    const helm = (args: string[]) => run(join(tools, 'helm'), args, { KUBECONFIG: kubeconfig });
    const ok = (r: { code: number; stdout: string; stderr: string }) => {
      expect(r.code, r.stderr + r.stdout).toBe(0);
      return r.stdout;
    };
    const json = (args: string[]) => JSON.parse(ok(kubectl([...args, '-o', 'json'])));

    beforeAll(() => {
      const up = run(join(ROOT, 'hack', 'cluster.sh'), ['up'], clusterEnv);
      if (up.code !== 0) throw new Error(`hack/cluster.sh up failed:\n${up.stderr}`);
      kubeconfig = run(join(ROOT, 'hack', 'cluster.sh'), ['kubeconfig'], clusterEnv).stdout.trim();
      for (const ns of [NS, 'desk-a', 'desk-b', 'desk']) ok(kubectl(['create', 'namespace', ns]));
    }, 300_000);

    afterAll(() => {
      run(join(ROOT, 'hack', 'cluster.sh'), ['down'], clusterEnv);
      rmSync(state, { recursive: true, force: true });
    }, 120_000);

    it.each(Object.keys(VALUE_SETS))('the API server accepts the %s render (dry-run=server)', (name) => {
      const out = ok(
        kubectl(['apply', '--dry-run=server', '-f', '-'], helmTemplate(tools, VALUE_SETS[name]!)),
      );
      expect(out).toContain('deployment.apps/veloz-operator created (server dry run)');
    });

    it('installs: CRDs established, Deployment of 2, RBAC bound', () => {
      ok(helm(['install', RELEASE, CHART, '-n', NS, '--wait', '--timeout', '3m']));
      for (const crd of ['velozdeployments.veloz.io', 'velozstrategies.veloz.io']) {
        ok(kubectl(['wait', '--for=condition=Established', `crd/${crd}`, '--timeout=60s']));
        expect(json(['get', 'crd', crd]).metadata.annotations['helm.sh/resource-policy']).toBe('keep');
      }
      const dep = json(['-n', NS, 'get', 'deployment', RELEASE]);
      expect(dep.status.readyReplicas).toBe(2);
      expect(
        ok(
          kubectl([
            'auth',
            'can-i',
            'patch',
            'statefulsets',
            '-n',
            'desk',
            `--as=system:serviceaccount:${NS}:${RELEASE}`,
          ]),
        ).trim(),
      ).toBe('yes');
      // Least privilege: nothing beyond the documented rules.
      for (const what of [
        ['update', 'statefulsets'],
        ['create', 'pods'],
        ['delete', 'namespaces'],
        ['create', 'pods', '--subresource=exec'],
        // Nodes are read (rbac.nodes, PairLost), never written.
        ['update', 'nodes'],
        ['patch', 'nodes', '--subresource=status'],
        ['delete', 'nodes'],
        // Roles only as render makes them: no ClusterRoles, and never more than the operator holds.
        ['create', 'clusterroles.rbac.authorization.k8s.io'],
        ['escalate', 'roles.rbac.authorization.k8s.io'],
        ['bind', 'roles.rbac.authorization.k8s.io'],
        ['create', 'serviceaccounts', '--subresource=token'],
      ]) {
        const r = kubectl([
          'auth',
          'can-i',
          ...what,
          '-n',
          'desk',
          `--as=system:serviceaccount:${NS}:${RELEASE}`,
        ]);
        expect(r.stdout.trim(), what.join(' ')).toBe('no');
      }
      for (const verb of ['get', 'list', 'watch']) {
        const r = kubectl(['auth', 'can-i', verb, 'nodes', `--as=system:serviceaccount:${NS}:${RELEASE}`]);
        expect(r.stdout.trim(), `${verb} nodes`).toBe('yes');
      }
      // `can-i create pods/proxy` would ask about a pod named "proxy": the subresource is a flag.
      for (const verb of ['get', 'create', 'update', 'delete']) {
        const r = kubectl([
          'auth',
          'can-i',
          verb,
          'pods',
          '--subresource=proxy',
          '-n',
          'desk',
          `--as=system:serviceaccount:${NS}:${RELEASE}`,
        ]);
        expect(r.stdout.trim(), `${verb} pods/proxy`).toBe('yes');
      }
      ok(kubectl(['-n', 'desk', 'apply', '-f', join(ROOT, 'crds', 'samples', 'quickstart.yaml')]));
    });

    it('the operator reconciles with the chart’s ServiceAccount and is never refused (403)', async () => {
      const op = await startOperator(await serviceAccountKubeconfig(), []);
      try {
        await until(async () => {
          const vzd = json(['-n', 'desk', 'get', 'vzd', 'quickstart']);
          return (
            vzd.status?.observedGeneration === vzd.metadata.generation &&
            kubectl(['-n', 'desk', 'get', 'statefulset', names('quickstart').engine]).code === 0 &&
            kubectl(['-n', 'desk', 'get', 'servicemonitor', names('quickstart').monitoring]).code === 0
          );
        }, 'quickstart reconciled');
        // The engines' Lease Role, which the API server lets the operator grant only because it
        // holds the same Lease verbs (RBAC escalation check): a missing verb is a 403 below.
        await until(
          async () =>
            kubectl(['-n', 'desk', 'get', 'rolebinding', names('quickstart').engineLeaseRole]).code === 0,
          'the engines’ Lease RoleBinding applied',
        );
        const metrics = await (await fetch(`http://127.0.0.1:${op.port}/metrics`)).text();
        expect(metrics).toMatch(
          /veloz_operator_api_requests_total\{verb="apply",kind="StatefulSet",code="20[01]"\}/,
        );
        expect(metrics).toMatch(
          /veloz_operator_api_requests_total\{verb="apply",kind="Role",code="20[01]"\}/,
        );
        expect(refused(metrics)).toEqual([]);
        expect(metrics).toMatch(/^veloz_operator_leader 1$/m);
      } finally {
        await op.stop();
      }
    });

    it('a rendered engine, run with its pod’s environment and service account token, holds its pair’s Lease', async () => {
      // What the operator applied and the kubelet would give the container: the StatefulSet's env,
      // the ConfigMap, the pod's name and uid (a kwok pod: real object, nothing runs in it), and a
      // token of ServiceAccount quickstart-engine bound to that pod, as the projected volume holds.
      const n = names('quickstart');
      const pod = await waitFor(`pod ${n.enginePod(0)}`, () => {
        const r = kubectl(['-n', 'desk', 'get', 'pod', n.enginePod(0), '-o', 'json']);
        return r.code === 0 ? (JSON.parse(r.stdout) as { metadata: { uid: string } }) : undefined;
      });
      const sts = json(['-n', 'desk', 'get', 'statefulset', n.engine]);
      const config = json(['-n', 'desk', 'get', 'configmap', n.config]).data as Record<string, string>;
      const dir = mkdtempSync(join(tmpdir(), 'veloz-engine-pod-'));
      const sa = join(dir, 'serviceaccount');
      const tokens = join(dir, 'engine-token');
      for (const d of [sa, tokens]) mkdirSync(d);
      writeFileSync(
        join(sa, 'token'),
        ok(
          kubectl([
            '-n',
            'desk',
            'create',
            'token',
            n.engineServiceAccount,
            '--bound-object-kind=Pod',
            `--bound-object-name=${n.enginePod(0)}`,
            `--bound-object-uid=${pod.metadata.uid}`,
          ]),
        ).trim(),
      );
      const admin = JSON.parse(
        ok(kubectl(['config', 'view', '--raw', '--minify', '--flatten', '-o', 'json'])),
      );
      writeFileSync(
        join(sa, 'ca.crt'),
        Buffer.from(admin.clusters[0].cluster['certificate-authority-data'], 'base64'),
      );
      writeFileSync(join(sa, 'namespace'), 'desk');
      const secret = json(['-n', 'desk', 'get', 'secret', n.engineTokenSecret]).data as Record<
        string,
        string
      >;
      for (const [k, v] of Object.entries(secret)) writeFileSync(join(tokens, k), Buffer.from(v, 'base64'));
      const env = renderedEngineEnv(
        sts,
        config,
        { name: n.enginePod(0), uid: pod.metadata.uid, namespace: 'desk' },
        {
          [WAL_MOUNT]: join(dir, 'wal'),
          [ENGINE_TOKEN_MOUNT]: tokens,
          '/var/run/secrets/kubernetes.io/serviceaccount': sa,
        },
      );
      expect(env).toMatchObject({ VELOZ_LEASE: 'true', VELOZ_LEASE_NAME: n.engineLease(0) });
      const server = new URL(admin.clusters[0].cluster.server);
      const engine = await startEngineProcess(
        {
          ...env,
          // In a pod the kubelet sets these for the `kubernetes` Service.
          KUBERNETES_SERVICE_HOST: server.hostname,
          KUBERNETES_SERVICE_PORT: server.port || '443',
          VELOZ_LOG_LEVEL: 'info',
        },
        120_000,
      );
      try {
        const holder = `${n.enginePod(0)}_${pod.metadata.uid}`;
        type Lease = { spec: { holderIdentity?: string; renewTime?: string } };
        const lease = () => {
          const r = kubectl(['-n', 'desk', 'get', 'lease', n.engineLease(0), '-o', 'json']);
          return r.code === 0 ? (JSON.parse(r.stdout) as Lease) : undefined;
        };
        const first = await waitFor('the Lease held by the engine', () => {
          const l = lease();
          return l?.spec.holderIdentity === holder ? l : undefined;
        });
        // And renewed, not only taken: a later renewTime from the same holder.
        await waitFor('the Lease renewed', () => {
          const l = lease();
          return l?.spec.holderIdentity === holder && l.spec.renewTime !== first.spec.renewTime
            ? l
            : undefined;
        });
        const metrics = await (await fetch(`${engine.url}/metrics`)).text();
        expect(metrics).toMatch(/^veloz_engine_fenced 0$/m);
        expect(metrics).not.toMatch(/^veloz_lease_renew_failures_total\{/m);
        expect((await fetch(`${engine.url}/ready`)).status).toBe(200);
      } finally {
        await engine.kill('SIGTERM');
        rmSync(dir, { recursive: true, force: true });
      }
      // Handed back on shutdown (ADR 0018), so a replacement pod need not wait a lease duration.
      expect(json(['-n', 'desk', 'get', 'lease', n.engineLease(0)]).spec.holderIdentity ?? '').toBe('');
    });

    it('upgrades in place with new values', () => {
      ok(
        helm([
          'upgrade',
          RELEASE,
          CHART,
          '-n',
          NS,
          '--wait',
          '--set',
          'workers=8',
          '--set',
          'logLevel=debug',
        ]),
      );
      const dep = json(['-n', NS, 'get', 'deployment', RELEASE]);
      expect(dep.spec.template.spec.containers[0].args).toEqual(
        expect.arrayContaining(['--workers=8', '--log-level=debug']),
      );
      expect(JSON.parse(ok(helm(['history', RELEASE, '-n', NS, '-o', 'json']))).length).toBe(2);
      // Still the chart's CRDs, upgraded with the release.
      const crd = json(['get', 'crd', 'velozdeployments.veloz.io']);
      expect(crd.metadata.annotations['meta.helm.sh/release-name']).toBe(RELEASE);
    });

    it('uninstalls everything but the CRDs and the resources in them', () => {
      ok(helm(['uninstall', RELEASE, '-n', NS, '--wait']));
      expect(kubectl(['-n', NS, 'get', 'deployment', RELEASE]).code).not.toBe(0);
      expect(kubectl(['get', 'clusterrole', `${NS}-${RELEASE}`]).code).not.toBe(0);
      ok(kubectl(['get', 'crd', 'velozdeployments.veloz.io', 'velozstrategies.veloz.io']));
      expect(json(['-n', 'desk', 'get', 'vzd', 'quickstart']).spec.pairs).toBe(1);
      ok(kubectl(['-n', 'desk', 'get', 'vzs', 'quickstart-grid']));
    });

    it('reinstalls in namespaced mode, adopting the kept CRDs; Roles suffice in the watched namespace', async () => {
      ok(helm(['install', RELEASE, CHART, '-n', NS, '--wait', '--set', 'watchNamespaces={desk}']));
      const as = `--as=system:serviceaccount:${NS}:${RELEASE}`;
      expect(ok(kubectl(['auth', 'can-i', 'patch', 'statefulsets', '-n', 'desk', as])).trim()).toBe('yes');
      expect(kubectl(['auth', 'can-i', 'patch', 'statefulsets', '-n', 'desk-a', as]).stdout.trim()).toBe(
        'no',
      );
      ok(kubectl(['-n', 'desk', 'patch', 'vzd', 'quickstart', '--type=merge', '-p', '{"spec":{"pairs":2}}']));
      const op = await startOperator(await serviceAccountKubeconfig(), ['--namespaces', 'desk']);
      try {
        await until(async () => {
          const sts = kubectl(['-n', 'desk', 'get', 'statefulset', names('quickstart').engine, '-o', 'json']);
          return sts.code === 0 && JSON.parse(sts.stdout).spec.replicas === 2;
        }, 'quickstart scaled to 2 pairs');
        const metrics = await (await fetch(`http://127.0.0.1:${op.port}/metrics`)).text();
        expect(refused(metrics)).toEqual([]);
      } finally {
        await op.stop();
      }
      ok(helm(['uninstall', RELEASE, '-n', NS, '--wait']));
    });

    /** A kubeconfig that authenticates as the chart's ServiceAccount, with a short-lived token. */
    async function serviceAccountKubeconfig(): Promise<string> {
      const token = ok(kubectl(['-n', NS, 'create', 'token', RELEASE, '--duration=1h'])).trim();
      const admin = JSON.parse(
        ok(kubectl(['config', 'view', '--raw', '--minify', '--flatten', '-o', 'json'])),
      );
      const cluster = admin.clusters[0].cluster;
      const file = join(state, `sa-${Date.now()}.kubeconfig`);
      writeFileSync(
        file,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'c', cluster }],
          users: [{ name: 'sa', user: { token } }],
          contexts: [{ name: 'sa', context: { cluster: 'c', user: 'sa' } }],
          'current-context': 'sa',
        }),
      );
      return file;
    }

    /** `veloz operator` from this repository, outside the cluster, as the chart would run it. */
    async function startOperator(kc: string, extra: string[]) {
      const child = spawn(
        process.execPath,
        [
          join(ROOT, 'engine', 'cli', 'bin', 'veloz.js'),
          'operator',
          '--kubeconfig',
          kc,
          '--metrics-port',
          '0',
          '--metrics-host',
          '127.0.0.1',
          '--leader-elect',
          `--lease-namespace=${NS}`,
          '--lease-name=veloz-operator',
          ...extra,
        ],
        { env: { ...process.env, POD_NAME: `chart-test-${process.pid}` }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const port = await new Promise<number>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          if (!line.startsWith('{')) return;
          const l = JSON.parse(line);
          if (l.msg === 'operator started') resolve(Number(l.port));
        });
        child.on('exit', (code) => reject(new Error(`operator exited with ${code}: ${stderr}`)));
      });
      return {
        port,
        stop: async () => {
          child.kill('SIGTERM');
          if (child.exitCode === null) await once(child, 'exit');
        },
      };
    }
  },
);

/**
 * API requests answered 403. The pod proxy is left out: kwok pods have no reachable IP, so the API
 * server answers every proxied call 403 "denied destination" whoever asks; its RBAC is checked with
 * `kubectl auth can-i` instead.
 */
function refused(metrics: string): string[] {
  return metrics.split('\n').filter((l) => l.includes('code="403"') && !l.includes('kind="pods/proxy"'));
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
