// The container image's build inputs. The image itself is built where a container engine exists
// (hack/build-image.sh); here the Dockerfile is checked against the repository it packages.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

describe('Dockerfile', () => {
  it('defaults to the Node version every npm script runs on', () => {
    expect(dockerfile).toContain(`ARG NODE_VERSION=${pkg.devDependencies.node}`);
    expect(dockerfile).toMatch(/^FROM node:\$\{NODE_VERSION\}-bookworm-slim$/m);
  });

  it('installs production dependencies of the runtime workspaces only, and copies their sources', () => {
    expect(dockerfile).toMatch(/npm ci --omit=dev --ignore-scripts/);
    for (const ws of ['engine', 'operator', 'cdk8s']) {
      expect(pkg.workspaces).toContain(ws);
      expect(dockerfile).toContain(`--workspace ${ws}`);
      expect(dockerfile).toContain(`COPY ${ws}/src ${ws}/src`);
    }
    // Every workspace manifest must be in the context, or npm ci rejects the lockfile.
    for (const ws of pkg.workspaces as string[])
      expect(dockerfile).toContain(`COPY ${ws}/package.json ${ws}/`);
  });

  it('runs as the numeric non-root user the pods expect, behind an init, with the veloz CLI', () => {
    const names = readFileSync(join(ROOT, 'cdk8s', 'src', 'names.ts'), 'utf8');
    const runAs = /RUN_AS = (\d+)/.exec(names)![1];
    expect(dockerfile).toContain(`USER ${runAs}:${runAs}`);
    expect(dockerfile).toContain('ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/engine/bin/veloz.js"]');
    expect(pkg.workspaces).toContain('engine');
    const engine = JSON.parse(readFileSync(join(ROOT, 'engine', 'package.json'), 'utf8'));
    expect(engine.bin.veloz).toBe('bin/veloz.js');
  });

  it('keeps tests and tooling out of the build context', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['**/node_modules', '**/*.test.ts', '.git', 'docs', 'charts'])
      expect(ignore).toContain(p);
  });
});

describe('hack/build-image.sh', () => {
  const engine = ['docker info', 'podman info', 'buildah version'].some(
    (c) => spawnSync('sh', ['-c', `${c} >/dev/null 2>&1`]).status === 0,
  );

  it.skipIf(engine)('says clearly that no container engine is available, and fails', () => {
    const res = spawnSync(join(ROOT, 'hack', 'build-image.sh'), { encoding: 'utf8' });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain(`no container engine available to build veloz:${pkg.version}`);
  });
});
