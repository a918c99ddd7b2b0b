// `npm test`: every check a change must pass, in order, with the time each phase took.
import { spawnSync } from 'node:child_process';

interface Phase {
  name: string;
  cmd: string[];
}

const phases: Phase[] = [
  { name: 'lint', cmd: ['npx', 'eslint', '.', '--max-warnings=0'] },
  { name: 'format', cmd: ['npx', 'prettier', '--check', '.'] },
  { name: 'typecheck', cmd: ['npx', 'tsc', '-p', 'tsconfig.json'] },
  { name: 'unit', cmd: ['npx', 'vitest', 'run', '--project', 'unit'] },
  { name: 'integration', cmd: ['npx', 'vitest', 'run', '--project', 'integration', '--passWithNoTests'] },
];

const timings: Array<[string, number, number]> = [];
let failed: string | undefined;
for (const phase of phases) {
  const started = performance.now();
  console.log(`\n=== ${phase.name}: ${phase.cmd.join(' ')}`);
  const [bin, ...args] = phase.cmd;
  const res = spawnSync(bin!, args, { stdio: 'inherit' });
  const code = res.status ?? 1;
  timings.push([phase.name, (performance.now() - started) / 1000, code]);
  if (code !== 0) {
    failed = phase.name;
    break;
  }
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
