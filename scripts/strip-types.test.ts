// The image's TypeScript-to-JavaScript step (scripts/strip-types.ts, docs/adr/0026), on small
// modules and on the whole shipped tree, run the way the image runs it.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeShippedTree, shippedVelozBin } from '@veloz/testing/shipped';
import { rewriteSpecifiers, stripModule } from './strip-types.ts';

describe('stripModule', () => {
  it('blanks the types and keeps every line where it was', () => {
    const src = [
      "import type { A } from './a.ts';",
      "import { b, type C } from '../b.ts';",
      'export function f(x: A): C {',
      '  return b(x) as C;',
      '}',
    ].join('\n');
    const js = stripModule(src, 'f.ts');
    expect(js.split('\n')).toHaveLength(5);
    expect(js.split('\n')[1]).toBe("import { b,        } from '../b.js';");
    expect(js).not.toContain("'./a.ts'");
    expect(js.split('\n')[3]).toBe('  return b(x)     ;');
  });

  it('renames relative specifiers of every import form, and leaves package names alone', () => {
    const js = rewriteSpecifiers(
      [
        "import { x } from './x.ts';",
        'import "../side.ts";',
        "export { y } from './y/z.ts';",
        "export * from './all.ts';",
        "const m = await import('./lazy.ts');",
        "import { render } from '@veloz/render/render';",
        "const note = 'see render.ts';",
      ].join('\n'),
      'm.ts',
    );
    expect(js).toBe(
      [
        "import { x } from './x.js';",
        'import "../side.js";',
        "export { y } from './y/z.js';",
        "export * from './all.js';",
        "const m = await import('./lazy.js');",
        "import { render } from '@veloz/render/render';",
        "const note = 'see render.ts';",
      ].join('\n'),
    );
  });

  it('refuses a relative .ts module name it would leave behind', () => {
    expect(() => rewriteSpecifiers("const p = require.resolve('./worker.ts');", 'w.ts')).toThrow(
      /w\.ts: a relative \.ts module name the rewrite does not handle: '\.\/worker\.ts'/,
    );
  });
});

describe('the shipped tree', () => {
  const bin = shippedVelozBin();
  afterAll(removeShippedTree);

  // With type stripping off, any .ts module that is still imported fails to load.
  const run = (...args: string[]) =>
    execFileSync(process.execPath, ['--no-experimental-strip-types', bin, ...args], { encoding: 'utf8' });

  it.each([
    ['operator'],
    ['engine'],
    ['gateway'],
    ['wal'],
    ['backup'],
    ['restore'],
    ['kubectl'],
    ['exchange'],
  ])('runs `veloz %s --help` with no TypeScript left to strip', (cmd) => {
    expect(run(cmd, '--help')).toMatch(/Usage: veloz/);
  });

  it('loads every module of the operator, the engine and the gateway', () => {
    const app = join(dirname(bin), '..', '..', '..');
    const modules = [
      'operator/src/manager.js',
      'engine/core/src/engine/engine.js',
      'engine/core/src/exchange/setup.js',
      'engine/gateway/src/command.js',
      'engine/backup/src/command.js',
    ].map((m) => join(app, m));
    const out = execFileSync(
      process.execPath,
      [
        '--no-experimental-strip-types',
        '--input-type=module',
        '-e',
        `for (const m of ${JSON.stringify(modules)}) await import(m); console.log('loaded');`,
      ],
      { encoding: 'utf8' },
    );
    expect(out.trim()).toBe('loaded');
  });
});
