// actionlint on the GitHub Actions workflows (.github/workflows/), which cannot run on this
// project's machines: the check that they are at least well-formed, with expressions, matrix
// references, action inputs and the shell of each `run:` step (shellcheck when installed) checked.
// It needs actionlint built from the Go module proxy (hack/build-actionlint.sh) and is skipped
// without it, saying so.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const WORKFLOWS = join(ROOT, '.github', 'workflows');

function actionlint(): string | undefined {
  const res = spawnSync(join(ROOT, 'hack', 'build-actionlint.sh'), ['--print-bin'], { encoding: 'utf8' });
  const bin = res.stdout.trim();
  return res.status === 0 && existsSync(bin) ? bin : undefined;
}

const tool = actionlint();

describe.skipIf(!tool)(
  tool ? 'actionlint' : 'actionlint: SKIPPED, actionlint is not built (hack/build-actionlint.sh)',
  () => {
    it('finds nothing to complain about in .github/workflows/', () => {
      const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
      expect(files).toContain('e2e-kind.yml');
      const res = spawnSync(tool!, ['-no-color', ...files.map((f) => join(WORKFLOWS, f))], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      expect(`${res.stdout}${res.stderr}`.trim() + (res.status === 0 ? '' : `\n(exit ${res.status})`)).toBe(
        '',
      );
    });
  },
);
