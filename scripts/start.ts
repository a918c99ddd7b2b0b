// `npm start`: with no $KUBECONFIG, the project's own local cluster with the CRDs, the operator
// and the quickstart deployment, shown live until Ctrl-C, then everything is torn down. The
// cluster has a real node (pods run the veloz image built here) when this machine can run one
// (hack/node.sh check), else kwok fake nodes; VELOZ_CLUSTER_NODE=kwok|real forces either. With
// $KUBECONFIG, the operator runs against that cluster in the foreground.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '@veloz/operator/kube/client';
import { deskScreen, inPlace, paintFor } from '@veloz/cli/kubectl/desk-view';
import { RESOURCES } from '@veloz/operator/kube/resources';
import { startLocalCluster, type NodeMode } from '@veloz/testing/local-cluster';
import { installCrds, readManifests } from '@veloz/testing/crds';

const ROOT = join(import.meta.dirname, '..');
const VELOZ = join(ROOT, 'engine', 'cli', 'bin', 'veloz.js');
const NAMESPACE = 'veloz-quickstart';

if (process.env['KUBECONFIG']) {
  console.log(
    `npm start: running the operator against KUBECONFIG=${process.env['KUBECONFIG']} (Ctrl-C stops it)`,
  );
  const child = spawn(process.execPath, [VELOZ, 'operator', '--kubeconfig', process.env['KUBECONFIG']], {
    stdio: 'inherit',
  });
  process.on('SIGINT', () => child.kill('SIGTERM'));
  const [code] = (await once(child, 'exit')) as [number | null];
  process.exit(code ?? 0);
}

interface PodView {
  metadata?: { name?: string };
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

// The viewer may go away before we do (a pipe closed by the same Ctrl-C): teardown must still run.
process.stdout.on('error', () => undefined);
// hack/cluster.sh runs a real node when this machine can (building what it needs, cached) and
// says why not otherwise.
function nodeMode(): NodeMode {
  const wanted = process.env['VELOZ_CLUSTER_NODE'] || 'auto';
  if (wanted !== 'kwok' && wanted !== 'real' && wanted !== 'auto') {
    console.error(`npm start: VELOZ_CLUSTER_NODE must be kwok, real or auto, not '${wanted}'`);
    process.exit(2);
  }
  return wanted;
}
const cluster = startLocalCluster('veloz', nodeMode());
const client = KubeClient.load(cluster.kubeconfig);
const stateDir = join(process.env['XDG_STATE_HOME'] ?? join(homedir(), '.local', 'state'), 'veloz');
await mkdir(stateDir, { recursive: true });
const logPath = join(stateDir, 'npm-start-operator.log');
let stopping = false;

async function teardown(code: number): Promise<never> {
  stopping = true;
  process.stdout.write('\nstopping the operator and the local cluster...\n');
  operator.kill('SIGTERM');
  await once(operator, 'exit').catch(() => undefined);
  client.close();
  cluster.down();
  process.exit(code);
}

await installCrds(client);
const operator = spawn(
  process.execPath,
  [VELOZ, 'operator', '--kubeconfig', cluster.kubeconfig, '--metrics-port', '0'],
  {
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
const log = createWriteStream(logPath);
operator.stdout.pipe(log);
operator.stderr.pipe(log);
operator.on('exit', (code) => {
  if (!stopping) {
    console.error(`the operator exited (code ${code}); its log is ${logPath}`);
    void teardown(1);
  }
});
process.on('SIGINT', () => void teardown(0));
process.on('SIGTERM', () => void teardown(0));

if (!(await client.find(RESOURCES.namespace, undefined, NAMESPACE))) {
  await client.create(RESOURCES.namespace, undefined, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: NAMESPACE },
  });
}
for (const o of await readManifests(join(ROOT, 'crds', 'samples', 'quickstart.yaml'))) {
  await client.apply({ ...o, metadata: { ...o.metadata, namespace: NAMESPACE } });
}

function cell(v: string | number | boolean | undefined, width: number): string {
  const s = v === undefined ? '-' : String(v);
  return s.length > width ? `${s.slice(0, width - 1)}…` : s.padEnd(width);
}

// The desk as `kubectl veloz status quickstart` shows it (the same renderer), then the pods.
const paint = paintFor(process.stdout);

async function render(): Promise<string> {
  const desk = await deskScreen(client, NAMESPACE, 'quickstart', paint, { withStrategies: true });
  const pods = (await client.list<PodView>(RESOURCES.pod, NAMESPACE)).items;
  const lines = [
    `VeloZ quickstart on the local cluster (namespace ${NAMESPACE}) — ${new Date().toISOString()}`,
    `kubeconfig: ${cluster.kubeconfig}    kubectl: ${cluster.bin}/kubectl    operator log: ${logPath}`,
    `the same view: PATH="$PWD/node_modules/.bin:$PATH" ${cluster.bin}/kubectl veloz -n ${NAMESPACE} status quickstart --watch`,
    '',
    desk.text.replace(/\n$/, ''),
  ];
  lines.push('', `${cell('POD', 28)}${cell('PHASE', 10)}NODE`);
  for (const p of pods)
    lines.push(`${cell(p.metadata?.name, 28)}${cell(p.status?.phase, 10)}${p.spec?.nodeName ?? '-'}`);
  lines.push(
    '',
    ...(cluster.mode === 'real'
      ? [
          `The pods run the veloz image on a real node (${cluster.name}-node: containerd, kubelet, kube-proxy).`,
          `Place an order: see docs/quickstart.md ("Trade against the desk").`,
        ]
      : [
          'The pods run on kwok fake nodes: Kubernetes schedules them and reports them Running, but no',
          'process runs inside, so strategies cannot reach an engine (no real node here: hack/node.sh check).',
        ]),
    'Ctrl-C stops the operator and removes the local cluster.',
  );
  return lines.join('\n');
}

for (;;) {
  if (stopping) break;
  try {
    const screen = await render();
    process.stdout.write(process.stdout.isTTY ? inPlace(screen) : `${screen}\n\n`);
  } catch (err) {
    process.stdout.write(`status not available yet: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  await new Promise((r) => setTimeout(r, process.stdout.isTTY ? 1_000 : 5_000));
}
