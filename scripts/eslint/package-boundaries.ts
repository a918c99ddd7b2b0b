// ESLint rule `veloz/package-boundaries`: the workspace packages keep real edges
// (docs/architecture.md). For every import it checks that
//   - a relative import stays inside the importing package (no reaching into a sibling's files);
//   - `@veloz/x/sub` names an entry of x's `exports` map (never `src/`, never an unlisted file);
//   - a bare import is declared in the importing package's package.json: `dependencies` for product
//     code, also `devDependencies` (and the repository root's) for tests, benches and tooling;
//   - a production import of another workspace does not close a cycle of `dependencies`.
// Packages are found from the file's nearest package.json and the root's `workspaces`, so the
// fixtures of its test are small repositories of their own.
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Rule } from 'eslint';

interface Manifest {
  name: string;
  dir: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  exports: Record<string, string> | undefined;
  workspaces: string[] | undefined;
}

const manifests = new Map<string, Manifest | null>();
function manifestAt(dir: string): Manifest | null {
  let m = manifests.get(dir);
  if (m !== undefined) return m;
  const file = join(dir, 'package.json');
  if (existsSync(file)) {
    const j = JSON.parse(readFileSync(file, 'utf8')) as Partial<Manifest> & { exports?: unknown };
    m = {
      name: j.name ?? dir,
      dir,
      dependencies: j.dependencies ?? {},
      devDependencies: j.devDependencies ?? {},
      exports: typeof j.exports === 'object' && j.exports !== null ? j.exports : undefined,
      workspaces: j.workspaces,
    };
  } else m = null;
  manifests.set(dir, m);
  return m;
}

/** The nearest package of a file, and the repository root (the package with workspaces). */
function packageOf(file: string): { pkg: Manifest; root: Manifest } | undefined {
  let pkg: Manifest | undefined;
  for (let dir = dirname(resolve(file)); ; dir = dirname(dir)) {
    const m = manifestAt(dir);
    if (m) {
      pkg ??= m;
      if (m.workspaces) return { pkg, root: m };
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function workspacesOf(root: Manifest): Map<string, Manifest> {
  const out = new Map<string, Manifest>();
  for (const ws of root.workspaces ?? []) {
    const m = manifestAt(join(root.dir, ws));
    if (m) out.set(m.name, m);
  }
  return out;
}

/** A production-dependency path from `from` back to `to`, if one exists. */
function pathBetween(from: Manifest, to: string, all: Map<string, Manifest>): string[] | undefined {
  const seen = new Set<string>();
  const walk = (m: Manifest): string[] | undefined => {
    if (m.name === to) return [m.name];
    if (seen.has(m.name)) return undefined;
    seen.add(m.name);
    for (const dep of Object.keys(m.dependencies)) {
      const next = all.get(dep);
      const rest = next && walk(next);
      if (rest) return [m.name, ...rest];
    }
    return undefined;
  };
  return walk(from);
}

const BUILTINS = new Set(builtinModules);
const isDevFile = (rel: string): boolean => /\.test\.[cm]?[jt]s$/.test(rel) || /(^|\/)bench\//.test(rel);

const rule: Rule.RuleModule = {
  meta: {
    type: 'problem',
    docs: {
      description: 'workspace packages import each other only through declared exports and dependencies',
    },
    schema: [],
    messages: {
      deep: "'{{spec}}' reaches into package {{target}}: import it as '{{target}}/…' through its exports map",
      notExported: "'{{spec}}' is not in the exports map of {{target}} ({{file}})",
      undeclared: "'{{base}}' is imported by {{pkg}} but not declared in its package.json {{field}}",
      cycle: "'{{spec}}' closes a cycle between packages: {{path}}",
    },
  },
  create(context) {
    const file = context.filename;
    const found = packageOf(file);
    if (!found) return {};
    const { pkg, root } = found;
    const rel = relative(pkg.dir, file).split(sep).join('/');
    const isRoot = pkg === root;
    const dev = isRoot || isDevFile(rel);
    const all = workspacesOf(root);

    const check = (node: Rule.Node, spec: string): void => {
      if (spec.startsWith('.')) {
        const target = packageOf(resolve(dirname(file), spec));
        if (target && target.pkg.dir !== pkg.dir)
          context.report({ node, messageId: 'deep', data: { spec, target: target.pkg.name } });
        return;
      }
      if (spec.startsWith('node:') || BUILTINS.has(spec.split('/')[0]!)) return;
      const parts = spec.split('/');
      const base = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
      if (base === pkg.name) return;
      const declared =
        base in pkg.dependencies ||
        (dev && (base in pkg.devDependencies || base in root.devDependencies || base in root.dependencies));
      if (!declared && !isRoot)
        context.report({
          node,
          messageId: 'undeclared',
          data: { base, pkg: pkg.name, field: dev ? 'dependencies or devDependencies' : 'dependencies' },
        });
      const target = all.get(base);
      if (!target) return;
      const entry = target.exports?.[`.${spec.slice(base.length)}`];
      if (!entry)
        context.report({
          node,
          messageId: 'notExported',
          data: { spec, target: base, file: relative(root.dir, join(target.dir, 'package.json')) },
        });
      if (!dev) {
        const back = pathBetween(target, pkg.name, all);
        if (back)
          context.report({ node, messageId: 'cycle', data: { spec, path: [pkg.name, ...back].join(' → ') } });
      }
    };

    const fromSource = (node: Rule.Node & { source?: { value?: unknown } | null }): void => {
      const v = node.source?.value;
      if (typeof v === 'string') check(node, v);
    };
    return {
      ImportDeclaration: fromSource,
      ExportNamedDeclaration: fromSource,
      ExportAllDeclaration: fromSource,
      ImportExpression(node) {
        const src = node.source;
        if (src.type === 'Literal' && typeof src.value === 'string') check(node, src.value);
      },
    };
  },
};

export default rule;
