// Where the operator's memory at start goes: the modules it loads, stripped to JavaScript as the
// image ships them (@veloz/testing/shipped), imported one after another in a fresh Node with the
// chart's flags, and the resident memory after a full GC at each step; then each step alone after
// bare Node (what it costs without what came before). Each figure is the median of RUNS processes.
// Usage: node operator/bench/module-memory.ts [RUNS=3]
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { shippedVelozBin } from '@veloz/testing/shipped';

const RUNS = Number(process.argv[2] ?? 3);
const app = join(dirname(shippedVelozBin()), '..', '..', '..');

/** In the order `veloz operator` loads them. */
const STEPS: Array<{ name: string; load: string }> = [
  // Node's own HTTP and TLS modules: the kube client and the metrics server need them whatever else
  // loads, and the first package to import them would otherwise be charged for them.
  { name: 'node:http, node:https', load: `await import('node:http'); await import('node:https')` },
  { name: 'pino (createLogger)', load: `await import('@veloz/common/logging')` },
  { name: 'prom-client', load: `await import('prom-client')` },
  {
    name: 'prom-client default metrics',
    load: `const p = await import('prom-client'); p.collectDefaultMetrics({ register: new p.Registry() })`,
  },
  { name: 'fastify', load: `await import('fastify')` },
  { name: 'cdk8s', load: `await import('cdk8s')` },
  { name: 'cdk8s-plus-27 L1 (imports/k8s)', load: `await import('cdk8s-plus-27/lib/imports/k8s.js')` },
  { name: 'cdk8s-plus-27 L2 (index)', load: `await import('cdk8s-plus-27')` },
  { name: 'render', load: `await import('@veloz/render/render')` },
  { name: 'operator (cli, manager, reconcilers)', load: `await import('@veloz/operator/cli')` },
];

const MEASURE = `
const settle = async () => { for (let i = 0; i < 4; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); } };
const mb = () => Math.round(process.memoryUsage().rss / 104857.6) / 10;
const out = [];
await settle(); out.push(mb());
`;

function run(steps: string[]): number[] {
  const file = join(app, `module-memory-${process.pid}.mjs`);
  writeFileSync(
    file,
    MEASURE +
      steps.map((s) => `{ ${s} } await settle(); out.push(mb());`).join('\n') +
      '\nconsole.log(JSON.stringify(out));',
  );
  // The chart's V8 flags as `veloz operator` runs with them (--optimize-for-size is set by it).
  const args = ['--expose-gc', '--optimize-for-size', '--max-semi-space-size=8', file];
  return JSON.parse(execFileSync(process.execPath, args, { cwd: app, encoding: 'utf8' })) as number[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cumulative = Array.from({ length: RUNS }, () => run(STEPS.map((s) => s.load)));
const alone = STEPS.map((s) => Array.from({ length: RUNS }, () => run([s.load])));
const rows = [{ step: 'Node alone', rss: median(cumulative.map((r) => r[0]!)), added: 0, alone: 0 }];
STEPS.forEach((s, i) => {
  const rss = median(cumulative.map((r) => r[i + 1]!));
  rows.push({
    step: s.name,
    rss,
    added: Math.round((rss - rows[i]!.rss) * 10) / 10,
    alone: Math.round(median(alone[i]!.map((r) => r[1]! - r[0]!)) * 10) / 10,
  });
});
console.table(rows);
