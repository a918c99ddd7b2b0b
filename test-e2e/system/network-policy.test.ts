// The rendered NetworkPolicies on a cluster that enforces them: SIG Network's kube-network-policies
// (hack/netpol.sh) runs on the real node and decides every new pod connection. A pod in another
// namespace carrying the scraper's or the operator's pod labels is refused by the engine port,
// while the desk's gateway, the operator's pod and a backup Job reach it, and so does a pod of the
// same image carrying the gateway's labels in the desk's namespace (the refusal is the policy,
// not the network), and the engine still answers it 401 without a token and 403 for admin routes
// with the trading token. Local real node only: the enforcer is installed for this file and removed.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_IMAGE } from '@veloz/api/image';
import { names, selectorLabels } from '@veloz/api/names';
import type { KubeClient } from '@veloz/operator/kube/client';
import { RESOURCES } from '@veloz/operator/kube/resources';
import { createNamespace, eventually } from '../support/cluster.ts';
import { installOperatorChart } from './support/operator-chart.ts';
import {
  bin,
  client,
  Gateway,
  kubeconfig,
  kubectl,
  localCluster,
  type Obj,
  quickstart,
  ready,
  skipReason,
} from './support/system.ts';

const HACK = join(import.meta.dirname, '..', '..', 'hack');
const q = names('quickstart');

function netpol(cmd: 'check' | 'up' | 'down'): { ok: boolean; out: string } {
  const res = spawnSync(join(HACK, 'netpol.sh'), [cmd], {
    encoding: 'utf8',
    env: { ...process.env, VELOZ_CLUSTER_NAME: localCluster() },
  });
  return { ok: res.status === 0, out: `${res.stdout}${res.stderr}` };
}

function skipWhy(): string {
  if (skipReason() !== '') return skipReason();
  if (localCluster() === '') return 'not the local real node';
  const check = netpol('check');
  return check.ok ? '' : check.out.trim();
}
const why = skipWhy();

/** The enforcer's count of dropped packets (its metrics, on the node's loopback). */
async function drops(): Promise<number> {
  const text = await (await fetch('http://127.0.0.1:19080/metrics')).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('kube_network_policies_packet_count{') && l.includes('verdict="drop"'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

interface Ask {
  url: string;
  method?: string;
  /** Sent as X-Veloz-Engine-Token. */
  token?: string;
}

/**
 * A pod of the veloz image that makes each request in turn (5 s each) and prints what came back:
 * `status 200`, or the error of a connection that never opened.
 */
async function probe(c: KubeClient, ns: string, name: string, labels: Record<string, string>, asks: Ask[]) {
  const script = `
    const out = [];
    for (const a of ${JSON.stringify(asks)}) {
      const headers = a.token ? { 'x-veloz-engine-token': a.token } : {};
      try { out.push('status ' + (await fetch(a.url, { method: a.method ?? 'GET', headers, signal: AbortSignal.timeout(5000) })).status); }
      catch (e) { out.push('error ' + (e.cause?.code ?? e.name)); }
    }
    console.log(JSON.stringify(out));`;
  await c.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'probe',
          image: DEFAULT_IMAGE,
          imagePullPolicy: 'IfNotPresent',
          command: ['node', '--input-type=module', '-e', script],
          resources: { requests: { cpu: '10m', memory: '32Mi' } },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
        },
      ],
    },
  });
  kubectl('-n', ns, 'wait', '--for=jsonpath={.status.phase}=Succeeded', '--timeout=180s', `pod/${name}`);
  return JSON.parse(kubectl('-n', ns, 'logs', name).trim()) as string[];
}

let c: KubeClient;
let desk: { name: string; remove: () => Promise<void> };
let elsewhere: { name: string; remove: () => Promise<void> };

describe.skipIf(why !== '')('real pods: NetworkPolicies enforced by kube-network-policies', () => {
  beforeAll(async () => {
    c = client();
    // The operator's own policy admits the API server by port, and that is the port the API
    // server listens on (after the kubernetes Service's translation), random on the local cluster.
    const apiPort = kubectl('get', 'endpoints', 'kubernetes', '-o', 'jsonpath={.subsets[0].ports[0].port}');
    installOperatorChart(bin(), kubeconfig(), [
      '--set-json',
      `networkPolicy.apiServerPorts=[443,6443,${apiPort}]`,
    ]);
    const up = netpol('up');
    if (!up.ok) throw new Error(`hack/netpol.sh up failed:\n${up.out}`);
    desk = await createNamespace(c, 'np');
    elsewhere = await createNamespace(c, 'np-other');
  }, 900_000);
  afterAll(async () => {
    const down = netpol('down');
    await Promise.all([desk?.remove(), elsewhere?.remove()]);
    installOperatorChart(bin(), kubeconfig());
    c.close();
    if (!down.ok) throw new Error(`hack/netpol.sh down failed:\n${down.out}`);
  }, 600_000);

  it('refuses forged labels from another namespace; admits the gateway, the operator and a backup Job', async () => {
    const { deployment } = await quickstart(desk.name);
    await c.apply({
      ...deployment,
      spec: {
        ...deployment.spec,
        // Never on its own during the test: the Job below is made from the CronJob by hand.
        backup: { schedule: '0 0 1 1 *', destination: { volume: { size: '1Gi' } } },
      },
    });
    await ready(c, desk.name, 'quickstart');
    const engineIp = await eventually('the engine pod IP', async () => {
      const p = await c.find<Obj>(RESOURCES.pod, desk.name, q.enginePod(0));
      return (p?.status?.['podIP'] as string | undefined) ?? false;
    });
    const engine = `http://${engineIp}:8080`;
    const health: Ask[] = Array.from({ length: 3 }, () => ({ url: `${engine}/health` }));

    // The gateway: an order through the Service reaches the engine.
    const gw = await Gateway.of(c, desk.name, 'quickstart');
    const placed = await gw.place({
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '0.001',
      price: '10000.00',
      clientOrderId: 'np-1',
    });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    // The operator: it reads the engine's WAL status (admin token) into the pair's status.
    const acked = (placed.body as { lastSequence: number }).lastSequence;
    await eventually(
      'status.pairs[0].walEntries to reach the order (the operator reached the engine)',
      async () => {
        const d = await c.get<{ status?: { pairs?: Array<{ walEntries?: number }> } }>(
          RESOURCES.velozDeployment,
          desk.name,
          'quickstart',
        );
        return (d.status?.pairs?.[0]?.walEntries ?? -1) >= acked;
      },
      120_000,
      1000,
    );
    // A backup Job.
    kubectl('-n', desk.name, 'create', 'job', `--from=cronjob/${q.backupCronJob}`, 'np-backup');
    kubectl('-n', desk.name, 'wait', '--for=condition=Complete', '--timeout=300s', 'job/np-backup');

    // Forged labels in another namespace: the scraper's and the operator's.
    const before = await drops();
    const scraper = await probe(
      c,
      elsewhere.name,
      'forged-scraper',
      { 'app.kubernetes.io/name': 'prometheus' },
      health,
    );
    const operator = await probe(
      c,
      elsewhere.name,
      'forged-operator',
      { 'app.kubernetes.io/name': 'veloz-operator', 'app.kubernetes.io/instance': 'veloz-operator' },
      health,
    );
    // The same image and requests with the gateway's labels in the desk's namespace: admitted
    // by the policy, and then the engine's own credentials: 401 without a token, 403 for admin
    // routes with the gateway's trading token (ADR 14).
    const tokens = await c.get<{ data: Record<string, string> }>(
      RESOURCES.secret,
      desk.name,
      q.engineTokenSecret,
    );
    const trading = Buffer.from(tokens.data['trading']!, 'base64').toString('utf8').split(/[,\n]/)[0]!;
    const sameNs = await probe(c, desk.name, 'gateway-labels', selectorLabels('quickstart', 'gateway'), [
      ...health,
      { url: `${engine}/api/orders_state` },
      { url: `${engine}/api/orders_state`, token: trading },
      { url: `${engine}/api/wal/status`, token: trading },
      { url: `${engine}/api/trading/halt`, method: 'POST', token: trading },
      { url: `${engine}/api/wal/backup`, token: trading },
    ]);

    expect(sameNs).toEqual([
      'status 200',
      'status 200',
      'status 200',
      'status 401',
      'status 200',
      'status 403',
      'status 403',
      'status 403',
    ]);
    for (const refused of [scraper, operator]) {
      expect(refused).toHaveLength(3);
      for (const r of refused) expect(r).toMatch(/^error /);
    }
    // Dropped by the enforcer's verdict (the steering rule lets packets through when it is away).
    expect(await drops()).toBeGreaterThan(before);
  });
});
