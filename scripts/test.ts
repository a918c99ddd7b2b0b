// `npm test`: every check a change must pass, with the time each phase took. Integration and
// e2e tests run against a real API server: $KUBECONFIG when set, else the project's own local
// cluster (built from upstream sources on first use, cached), started here and always stopped.
// The system phase then runs real pods on a cluster with a real node of its own (hack/node.sh;
// test-e2e/system), or says why it cannot on this machine. With VELOZ_E2E_KIND=1 the e2e suite
// runs once more on a 3-node kind cluster (hack/kind-up.sh, docs/kind.md), deleted afterwards.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startLocalCluster, type LocalCluster } from '@veloz/testing/local-cluster';

interface Phase {
  name: string;
  run: () => number;
}

const npx =
  (args: string[], env: Record<string, string> = {}) =>
  () =>
    spawnSync('npx', args, { stdio: 'inherit', env: { ...process.env, ...env } }).status ?? 1;

let cluster: LocalCluster | undefined;
let kubeconfig = process.env['KUBECONFIG'];
const clusterEnv = (): Record<string, string> => ({
  KUBECONFIG: kubeconfig ?? '',
  VELOZ_TEST_KUBECONFIG: kubeconfig ?? '',
  VELOZ_E2E_CLUSTER: cluster?.name ?? '',
});

const phases: Phase[] = [
  { name: 'lint', run: npx(['eslint', '.', '--max-warnings=0']) },
  { name: 'format', run: npx(['prettier', '--check', '.']) },
  { name: 'typecheck', run: npx(['tsc', '-p', 'tsconfig.json']) },
  { name: 'unit', run: npx(['vitest', 'run', '--project', 'unit']) },
  {
    name: 'cluster up',
    run: () => {
      if (kubeconfig) {
        console.log(`using the cluster of KUBECONFIG=${kubeconfig}`);
        return 0;
      }
      try {
        cluster = startLocalCluster('veloz-test');
        kubeconfig = cluster.kubeconfig;
        return 0;
      } catch (err) {
        console.error(err instanceof Error ? err.message : String(err));
        return 1;
      }
    },
  },
  { name: 'integration', run: () => npx(['vitest', 'run', '--project', 'integration'], clusterEnv())() },
  { name: 'e2e', run: () => npx(['vitest', 'run', '--project', 'e2e'], clusterEnv())() },
  // The kwok cluster goes before the real node comes: two cores are shared by everything.
  { name: 'cluster down', run: () => stopCluster() },
  { name: 'system', run: npx(['vitest', 'run', '--project', 'system']) },
];

const KIND_UP = join(import.meta.dirname, '..', 'hack', 'kind-up.sh');
let kindUp = false;
const kindDown = (): number => {
  kindUp = false;
  return spawnSync(KIND_UP, ['down'], { stdio: 'inherit' }).status ?? 1;
};
if (process.env['VELOZ_E2E_KIND'] === '1') {
  phases.push(
    {
      name: 'kind up',
      run: () => {
        kindUp = true;
        return spawnSync(KIND_UP, [], { stdio: ['ignore', 'ignore', 'inherit'] }).status ?? 1;
      },
    },
    {
      name: 'kind e2e',
      run: () => {
        const kindConfig = spawnSync(KIND_UP, ['kubeconfig'], { encoding: 'utf8' }).stdout.trim();
        // An external cluster: the suite skips the case that restarts its own local API server.
        return npx(['vitest', 'run', '--project', 'e2e'], {
          KUBECONFIG: kindConfig,
          VELOZ_E2E_CLUSTER: '',
        })();
      },
    },
    { name: 'kind down', run: kindDown },
  );
}

function stopCluster(): number {
  const c = cluster;
  if (!c) return 0;
  cluster = undefined;
  try {
    c.down();
    return 0;
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    return 1;
  }
}

const timings: Array<[string, number, number]> = [];
let failed: string | undefined;
const timed = (name: string, fn: () => number): number => {
  const started = performance.now();
  console.log(`\n=== ${name}`);
  const code = fn();
  timings.push([name, (performance.now() - started) / 1000, code]);
  return code;
};
try {
  for (const phase of phases) {
    if (timed(phase.name, phase.run) !== 0) {
      failed = phase.name;
      break;
    }
  }
} finally {
  if (cluster && timed('cluster down', stopCluster) !== 0) failed ??= 'cluster down';
  if (kindUp && timed('kind down', kindDown) !== 0) failed ??= 'kind down';
}
console.log('\n=== timings');
for (const [name, secs, code] of timings) {
  console.log(
    `${name.padEnd(12)} ${secs.toFixed(1).padStart(7)} s  ${code === 0 ? 'ok' : `FAILED (exit ${code})`}`,
  );
}
if (failed) {
  console.error(`npm test: phase "${failed}" failed`);
  process.exit(1);
}
