// The `veloz` CLI as the image ships it: the files of hack/image-contents.txt stripped to
// JavaScript by scripts/strip-types.ts (the step hack/build-image-rootfs.sh and the Dockerfile
// run), beside this checkout's node_modules. Benches and tests that measure the shipped operator
// start this one instead of the TypeScript sources.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');
/** What the image build leaves out of the listed paths (its tar excludes, .dockerignore). */
const EXCLUDED = /(^|\/)(node_modules|__snapshots__|bench|\.veloz-tmp|coverage)(\/|$)|\.test\.ts$/;

let built: { app: string; bin: string } | undefined;

/**
 * Path of the stripped tree's bin/veloz.js, built once per process into a temporary directory that
 * goes when the process exits.
 */
export function shippedVelozBin(): string {
  if (built) return built.bin;
  const app = mkdtempSync(join(tmpdir(), 'veloz-shipped-'));
  process.once('exit', removeShippedTree);
  const contents = readFileSync(join(ROOT, 'hack', 'image-contents.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  for (const path of contents)
    cpSync(join(ROOT, path), join(app, path), {
      recursive: true,
      filter: (src) => !EXCLUDED.test(src.slice(ROOT.length + 1)),
    });
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'strip-types.ts'), app], { stdio: 'pipe' });
  // The checkout's dependencies, but the workspaces' own links point at the stripped copies.
  const modules = join(app, 'node_modules');
  mkdirSync(join(modules, '@veloz'), { recursive: true });
  for (const e of readdirSync(join(ROOT, 'node_modules')))
    if (e !== '@veloz' && e !== '.bin') symlinkSync(join(ROOT, 'node_modules', e), join(modules, e));
  for (const path of contents.filter((p) => p.endsWith('/package.json'))) {
    const dir = path.slice(0, -'/package.json'.length);
    const name = (JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as { name: string }).name;
    symlinkSync(join(app, dir), join(modules, name));
  }
  built = { app, bin: join(app, 'engine', 'cli', 'bin', 'veloz.js') };
  return built.bin;
}

/** Removes the stripped tree (test runners may end their workers without an exit event). */
export function removeShippedTree(): void {
  if (built) rmSync(built.app, { recursive: true, force: true });
  built = undefined;
}
