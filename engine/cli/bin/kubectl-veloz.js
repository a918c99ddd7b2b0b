#!/usr/bin/env node
// `kubectl veloz ...`: kubectl runs any `kubectl-veloz` on PATH as its plugin. Same Node 24
// requirement and re-exec as bin/veloz.js.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 24 || (major === 24 && minor < 11)) {
  const require = createRequire(import.meta.url);
  let pinned;
  try {
    pinned = require.resolve('node/bin/node');
  } catch {
    process.stderr.write(
      `kubectl-veloz: Node ${process.versions.node} is too old; Node 24 LTS is required.\n`,
    );
    process.exit(1);
  }
  const res = spawnSync(pinned, [import.meta.filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(res.status ?? 1);
}
const { kubectlCommand } = await import('../src/kubectl/command.ts');
process.exitCode = await kubectlCommand(process.argv.slice(2), { out: process.stdout, err: process.stderr });
