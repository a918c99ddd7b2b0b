// Every kubectl command in docs/runbooks/*.md runs verbatim against a real API server with the
// operator and the quickstart desk, after replacing only the documented shorthands (NS, X, S and
// the pair index i): resource names, short names, labels, JSONPath and flags must all be right.
// Commands that need containers (logs, exec, port-forward: the pods here run on kwok fake nodes)
// or the chart's operator Deployment are listed as skipped with the reason.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient } from '@veloz/operator/kube/client';
import { RESOURCES, type KubernetesObject } from '@veloz/operator/kube/resources';
import { OperatorProcess } from '@veloz/testing/operator-process';
import { runbookCommands } from '@veloz/testing/runbook-commands';
import { client, createNamespace, eventually, kubeconfig } from './support/cluster.ts';
import { sampleObjects } from './support/samples.ts';

const ROOT = join(import.meta.dirname, '..');
const commands = runbookCommands(join(ROOT, 'docs', 'runbooks')).filter((c) => c.tool === 'kubectl');

/** Why a command cannot run here, or null when it can. */
function skipReason(command: string): string | null {
  if (/^kubectl (describe|delete pod)$/.test(command)) return 'prose: names a kind of command, not one';
  if (/<[a-z ]+>/.test(command)) return 'a placeholder only a person can fill in (job name, image)';
  if (/\b(logs|exec|port-forward)\b|\brun walcheck\b/.test(command))
    return 'needs containers: pods here run on kwok fake nodes (the system suite runs real ones)';
  if (/-n veloz-system\b/.test(command))
    return "needs the chart's operator Deployment in veloz-system (the chart integration test installs it)";
  return null;
}

const SHORTHANDS = (ns: string): Array<[RegExp, string]> => [
  [/\bNS\b/g, ns],
  [/\bX-(engine|gateway)-i\b/g, 'quickstart-$1-0'],
  [/\bX\b/g, 'quickstart'],
  [/\bS\b/g, 'quickstart-grid'],
  [/--replicas=i\b/g, '--replicas=0'],
];

// Scaling the engines below pair i stops the pod the other commands look at: it runs last.
const runnable = commands
  .filter((c) => skipReason(c.command) === null)
  .sort((a, b) => Number(/\bscale\b/.test(a.command)) - Number(/\bscale\b/.test(b.command)));
const skipped = commands.filter((c) => skipReason(c.command) !== null);

function withDrills(o: KubernetesObject): KubernetesObject {
  if (o.kind !== 'VelozDeployment') return o;
  const d = o as KubernetesObject & { spec: { backup?: Record<string, unknown> } };
  return { ...d, spec: { ...d.spec, backup: { ...d.spec.backup, verify: { schedule: '30 3 * * *' } } } };
}

function kubectlDir(): string {
  const found = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' });
  if (found.status === 0) return join(found.stdout.trim(), '..');
  return execFileSync('bash', [join(ROOT, 'hack', 'cluster.sh'), 'bin'], { encoding: 'utf8' }).trim();
}

describe('runbook kubectl commands, verbatim, against the quickstart desk', () => {
  let c: KubeClient;
  let ns: { name: string; remove: () => Promise<void> };
  let op: OperatorProcess;
  let cwd: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    c = client();
    ns = await createNamespace(c, 'runbook');
    op = await OperatorProcess.start({ kubeconfig: kubeconfig(), namespaces: [ns.name] });
    cwd = await mkdtemp(join(tmpdir(), 'veloz-runbook-kubectl-'));
    env = {
      ...process.env,
      KUBECONFIG: kubeconfig(),
      PATH: `${kubectlDir()}${delimiter}${process.env['PATH'] ?? ''}`,
    };
    // Restore drills on (spec.backup.verify): the drill runbook commands read their CronJob.
    for (const d of await sampleObjects(ns.name)) await c.apply(withDrills(d));
    await eventually(
      'the quickstart desk to be Ready',
      async () => {
        const d = await c.find<
          KubernetesObject & { status?: { conditions?: Array<{ type: string; status: string }> } }
        >(RESOURCES.velozDeployment, ns.name, 'quickstart');
        return d?.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
      },
      120_000,
    );
  });

  afterAll(async () => {
    await op?.kill('SIGTERM');
    await ns?.remove();
    c?.close();
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  it('finds the commands', () => {
    expect(runnable.length).toBeGreaterThan(20);
  });

  it.each(runnable.map((x) => [`${x.file}:${x.line}`, x.command] as const))('%s: %s', (_where, command) => {
    const run = SHORTHANDS(ns.name).reduce((s, [from, to]) => s.replace(from, to), command);
    // `kubectl delete pod` waits for the pod to go: up to its 30 s grace period, after which kwok
    // removes it when it gets to it, which takes longer while the suite's other namespaces are
    // being deleted.
    const r = spawnSync('sh', ['-c', run], { cwd, env, encoding: 'utf8', timeout: 180_000 });
    expect(r.status, `${run}\n${r.stdout}\n${r.stderr}`).toBe(0);
  });

  it.skip.each(skipped.map((x) => [`${x.file}:${x.line}`, x.command, skipReason(x.command)] as const))(
    '%s: %s (%s)',
    () => undefined,
  );
});
