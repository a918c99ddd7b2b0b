// The boundary rule bites on each kind of leak (fixtures: a small repository of packages), and the
// repository's own packages have no cycle of production dependencies.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import rule from './package-boundaries.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'repo');
const ROOT = join(import.meta.dirname, '..', '..');

function lint(file: string, code: string): string[] {
  const linter = new Linter({ configType: 'flat' });
  return linter
    .verify(
      code,
      [
        {
          files: ['**/*.ts'],
          languageOptions: { parser: tseslint.parser },
          plugins: { veloz: { rules: { 'package-boundaries': rule } } },
          rules: { 'veloz/package-boundaries': 'error' },
        },
      ],
      { filename: join(FIXTURE, file) },
    )
    .map((m) => m.message);
}

describe('veloz/package-boundaries', () => {
  it('accepts imports through exports maps and declared dependencies', () => {
    expect(
      lint(
        'a/src/x.ts',
        "import { lib } from '@fx/b/lib';\nimport { api } from './api.ts';\nexport { lib, api };",
      ),
    ).toEqual([]);
    // Tests may use devDependencies (dependency cycles through test code are fine) and root tooling.
    expect(
      lint(
        'b/src/x.test.ts',
        "import { api } from '@fx/a/api';\nimport { it } from 'vitest';\nexport { api, it };",
      ),
    ).toEqual([]);
  });

  it('refuses a relative import into another package', () => {
    expect(lint('b/src/x.ts', "export { api } from '../../a/src/api.ts';")).toEqual([
      "'../../a/src/api.ts' reaches into package @fx/a: import it as '@fx/a/…' through its exports map",
    ]);
  });

  it('refuses a deep import that is not in the exports map', () => {
    expect(lint('b/src/x.test.ts', "import '@fx/a/src/internal.ts';\nimport '@fx/a/internal';")).toEqual([
      "'@fx/a/src/internal.ts' is not in the exports map of @fx/a (a/package.json)",
      "'@fx/a/internal' is not in the exports map of @fx/a (a/package.json)",
    ]);
  });

  it('refuses an import the package.json does not declare', () => {
    expect(lint('a/src/x.ts', "import 'left-pad';\nimport 'vitest';")).toEqual([
      "'left-pad' is imported by @fx/a but not declared in its package.json dependencies",
      "'vitest' is imported by @fx/a but not declared in its package.json dependencies",
    ]);
    // A devDependency is not enough for product code (and here it would close a cycle too).
    expect(lint('b/src/x.ts', "import '@fx/a/api';")).toEqual([
      "'@fx/a' is imported by @fx/b but not declared in its package.json dependencies",
      "'@fx/a/api' closes a cycle between packages: @fx/b → @fx/a → @fx/b",
    ]);
  });

  it('refuses an import that closes a cycle of production dependencies', () => {
    expect(lint('d/src/x.ts', "import '@fx/e/e';")).toEqual([
      "'@fx/e/e' closes a cycle between packages: @fx/d → @fx/e → @fx/d",
    ]);
  });
});

describe("the repository's packages", () => {
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  const pkgs = new Map(
    root.workspaces.map((ws) => {
      const j = JSON.parse(readFileSync(join(ROOT, ws, 'package.json'), 'utf8')) as {
        name: string;
        dependencies?: Record<string, string>;
      };
      return [j.name, Object.keys(j.dependencies ?? {}).filter((d) => d.startsWith('@veloz/'))] as const;
    }),
  );

  it('form no cycle of production dependencies', () => {
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string, path: string[]): void => {
      if (state.get(name) === 'done') return;
      if (state.get(name) === 'visiting') throw new Error(`cycle: ${[...path, name].join(' → ')}`);
      state.set(name, 'visiting');
      for (const dep of pkgs.get(name) ?? []) visit(dep, [...path, name]);
      state.set(name, 'done');
    };
    for (const name of pkgs.keys()) visit(name, []);
  });

  it('keep test code out of production dependencies', () => {
    for (const [name, deps] of pkgs)
      if (!['@veloz/testing', '@veloz/bench', '@veloz/test-e2e'].includes(name))
        expect(deps, name).not.toContain('@veloz/testing');
  });
});
