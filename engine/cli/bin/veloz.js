#!/usr/bin/env node
// The CLI runs the TypeScript sources directly through Node 24's type stripping, so
// `npx veloz` needs no build step. An older `node` found first on PATH is replaced by
// the Node 24 that the repository pins as a devDependency (or the image ships).
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
      `veloz: Node ${process.versions.node} is too old; Node 24 LTS is required (run \`npm ci\` in the repository, or install Node 24).\n`,
    );
    process.exit(1);
  }
  const res = spawnSync(pinned, [import.meta.filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(res.status ?? 1);
}
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
