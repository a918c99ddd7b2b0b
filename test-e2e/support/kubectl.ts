// kubectl against the suite's cluster, for what the lean client does not do (drain, exec): the one
// on PATH, else the local cluster's pinned build.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { kubeconfig } from './cluster.ts';

const ROOT = join(import.meta.dirname, '..', '..');

let bin: string | undefined;

function kubectlBin(): string {
  if (bin) return bin;
  const found = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' });
  bin =
    found.status === 0
      ? found.stdout.trim()
      : join(
          execFileSync('bash', [join(ROOT, 'hack', 'cluster.sh'), 'bin'], { encoding: 'utf8' }).trim(),
          'kubectl',
        );
  return bin;
}

/** Runs kubectl with the suite's kubeconfig; its exit status and its output (stdout, then stderr). */
export function kubectl(args: string[], timeoutMs = 300_000): { status: number; out: string } {
  const res = spawnSync(kubectlBin(), args, {
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: kubeconfig() },
    timeout: timeoutMs,
  });
  return { status: res.status ?? 1, out: `${res.stdout}${res.stderr}` };
}
