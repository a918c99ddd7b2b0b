// Turns a copy of the shipped workspaces into plain JavaScript, in place, for the image
// (docs/adr/0026-the-image-ships-stripped-javascript.md):
//
//   node scripts/strip-types.ts DIR     (DIR: the image's /app as hack/build-image-rootfs.sh and the
//                                        Dockerfile assemble it, node_modules excluded)
//
// Every `.ts` file becomes a `.js` file stripped by Node's own module.stripTypeScriptTypes, which
// replaces types with blanks: lines and columns stay those of the source, so stack traces still
// point at the right place in the `.ts` files of the repository. Relative import specifiers and the
// package.json `exports` maps name `.js` instead of `.ts`. At run time Node then never loads its
// type stripper (about 29 MB resident for the operator). Uses Node built-ins only, so the
// Dockerfile's build stage needs no npm dependency to run it.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { join } from 'node:path';

/** `from './x.ts'`, `import './x.ts'`, `import('./x.ts')`: the forms of a relative specifier. */
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(?\s*)(['"])(\.{1,2}\/[^'"\n]*?)\.ts\2/g;
/** A relative `.ts` module name left in a quoted string: a form SPECIFIER does not know. */
const LEFT_OVER = /(['"`])\.{1,2}\/[^'"`\n]*\.ts\1/;

/** Relative `.ts` specifiers of `code` as `.js` (same length: positions do not move). */
export function rewriteSpecifiers(code: string, file: string): string {
  const out = code.replace(
    SPECIFIER,
    (_m, lead: string, q: string, path: string) => `${lead}${q}${path}.js${q}`,
  );
  const left = LEFT_OVER.exec(out);
  if (left) throw new Error(`${file}: a relative .ts module name the rewrite does not handle: ${left[0]}`);
  return out;
}

/** JavaScript of one TypeScript module: types blanked, relative specifiers renamed. */
export function stripModule(source: string, file: string): string {
  return rewriteSpecifiers(stripTypeScriptTypes(source, { mode: 'strip' }), file);
}

/** A package.json `exports`, `imports`, `main` or `bin` target `./src/x.ts` as `./src/x.js`. */
function jsTargets(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(/\.ts$/, '.js');
  if (Array.isArray(v)) return v.map(jsTargets);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsTargets(x)]));
  return v;
}

/** Strips every `.ts` file under `dir` (not node_modules) in place; returns how many it turned. */
export function stripTree(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules') n += stripTree(p);
    } else if (e.name.endsWith('.d.ts')) {
      rmSync(p);
    } else if (e.name.endsWith('.ts')) {
      writeFileSync(`${p.slice(0, -3)}.js`, stripModule(readFileSync(p, 'utf8'), p));
      rmSync(p);
      n++;
    } else if (e.name.endsWith('.js') || e.name.endsWith('.mjs')) {
      // Plain JavaScript that imports TypeScript (the CLI's bin/veloz.js).
      const code = readFileSync(p, 'utf8');
      const js = rewriteSpecifiers(code, p);
      if (js !== code) writeFileSync(p, js);
    } else if (e.name === 'package.json') {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
      for (const k of ['exports', 'imports', 'main', 'bin'])
        if (pkg[k] !== undefined) pkg[k] = jsTargets(pkg[k]);
      writeFileSync(p, `${JSON.stringify(pkg, null, 2)}\n`);
    }
  }
  return n;
}

if (import.meta.main) {
  const dir = process.argv[2];
  if (!dir || process.argv.length > 3) {
    process.stderr.write('usage: node scripts/strip-types.ts DIR\n');
    process.exit(2);
  }
  // The stripper is experimental in Node 24; its warning says nothing about this build.
  process.removeAllListeners('warning');
  const n = stripTree(dir);
  process.stdout.write(`stripped ${n} TypeScript modules under ${dir}\n`);
}
