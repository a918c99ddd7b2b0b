// kubectl veloz's errors against a real API server: an engine that cannot be reached is named with
// its pair and the reason, and the exit status says the totals are incomplete; a user without
// permission is told which object they may not read; an unknown desk or context is named.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DEFAULT_IMAGE } from '@veloz/api/image';
import { names } from '@veloz/api/names';
import type { KubeClient } from '@veloz/operator/kube/client';
import { RESOURCES } from '@veloz/operator/kube/resources';
import { client, createNamespace, eventually, kubeconfig } from './support/cluster.ts';

const PLUGIN = join(import.meta.dirname, '..', 'engine', 'cli', 'bin', 'kubectl-veloz.js');

let c: KubeClient;
let ns: { name: string; remove: () => Promise<void> };

function plugin(config: string, ...args: string[]): { status: number; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, [PLUGIN, ...args, '--kubeconfig', config], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 120_000,
  });
  return { status: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

/**
 * A Running engine pod that never answers on the engine port, on any node: kwok's fake nodes run
 * nothing, and on real nodes (kind) the image every node holds idles without serving.
 */
const pod = (name: string, component: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name,
    labels: { 'app.kubernetes.io/instance': 'desk', 'app.kubernetes.io/component': component },
  },
  spec: {
    containers: [
      {
        name: component,
        image: DEFAULT_IMAGE,
        imagePullPolicy: 'IfNotPresent',
        command: ['/usr/bin/tini', '--', 'node', '-e', 'setInterval(() => {}, 60_000)'],
        resources: { requests: { cpu: '10m', memory: '32Mi' } },
      },
    ],
  },
});

beforeAll(async () => {
  c = client();
  ns = await createNamespace(c, 'plugin');
  await c.create(RESOURCES.velozDeployment, ns.name, {
    apiVersion: 'veloz.io/v1alpha1',
    kind: 'VelozDeployment',
    metadata: { name: 'desk' },
    spec: { pairs: 1, market: { source: 'sim', symbols: ['BTCUSDT'] }, execution: { mode: 'sim_engine' } },
  });
  await c.create(RESOURCES.secret, ns.name, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: names('desk').engineTokenSecret },
    stringData: { admin: 'a'.repeat(64), trading: 't'.repeat(64), backup: 'b'.repeat(64) },
  });
  await c.create(RESOURCES.pod, ns.name, pod(names('desk').enginePod(0), 'engine'));
  await eventually(
    'the engine pod to be Running',
    async () => {
      const p = await c.get<{ status?: { phase?: string } }>(
        RESOURCES.pod,
        ns.name,
        names('desk').enginePod(0),
      );
      return p.status?.phase === 'Running';
    },
    // A real node starts the container, slowly on a loaded machine.
    180_000,
  );
});
afterAll(async () => {
  await ns.remove();
  c.close();
});

describe('kubectl veloz errors on a real API server', () => {
  it('names the pair whose engine cannot be reached and why, and exits 1', () => {
    const r = plugin(kubeconfig(), 'status', 'desk', '-n', ns.name);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`VelozDeployment ${ns.name}/desk`);
    expect(r.stdout).toMatch(/pair 0: engine desk-engine-0 not read: not reachable: /);
    expect(r.stdout).toContain('totals leave out pair 0');
    const orders = plugin(kubeconfig(), 'orders', 'desk', '-n', ns.name);
    expect(orders.status).toBe(1);
    expect(orders.stderr).toMatch(
      /pair 0: engine desk-engine-0 not read, its orders are missing: not reachable/,
    );
    const halt = plugin(kubeconfig(), 'halt', 'desk', '-n', ns.name, '-o', 'json');
    expect(halt.status).toBe(1);
    expect(JSON.parse(halt.stdout)).toEqual([
      expect.objectContaining({
        pair: 0,
        ok: false,
        error: expect.stringMatching(/desk-engine-0/) as unknown,
      }),
    ]);
  });

  it('names an unknown desk, finds a desk with -A, and lists desks', () => {
    const r = plugin(kubeconfig(), 'status', 'nope', '-n', ns.name);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`no desk "nope" in namespace "${ns.name}"`);
    const all = plugin(kubeconfig(), 'api-key', 'desk', '-A');
    expect(all.status).toBe(1);
    // Found in its namespace; the operator that would make the API-key Secret is not running.
    expect(all.stderr).toContain(`Secret ${ns.name}/desk-gateway-api-key does not exist`);
    const list = plugin(kubeconfig(), 'status', '-n', ns.name, '-o', 'json');
    expect(list.status, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name: 'desk', namespace: ns.name })]);
    const ctx = plugin(kubeconfig(), 'status', 'desk', '--context', 'nope');
    expect(ctx.status).toBe(1);
    expect(ctx.stderr).toContain('has no context "nope"');
  });

  it('tells a user without permission which object they may not read', async () => {
    await c.create(RESOURCES.serviceAccount, ns.name, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'nobody' },
    });
    const t = await c.request<{ status: { token: string } }>(
      'POST',
      `/api/v1/namespaces/${ns.name}/serviceaccounts/nobody/token`,
      {
        verb: 'create',
        kind: 'TokenRequest',
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} },
      },
    );
    const cfg = parse(readFileSync(kubeconfig(), 'utf8')) as {
      users: Array<{ name: string; user: Record<string, unknown> }>;
    };
    cfg.users = cfg.users.map((u) => ({ name: u.name, user: { token: t.status.token } }));
    const path = join(import.meta.dirname, `.nobody-${ns.name}.kubeconfig`);
    writeFileSync(path, stringify(cfg));
    try {
      const r = plugin(path, 'status', 'desk', '-n', ns.name);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(`no permission to read VelozDeployment ${ns.name}/desk: .*forbidden`),
      );
    } finally {
      spawnSync('rm', ['-f', path]);
    }
  });
});
