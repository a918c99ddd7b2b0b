// The container image's build inputs. The image itself is built where a container engine exists
// (hack/build-image.sh); here the Dockerfile is checked against the repository it packages.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
/** The workspaces whose production code the image runs (docs/architecture.md). */
const RUNTIME = [
  'cdk8s/api',
  'cdk8s/render',
  'engine/common',
  'engine/wal',
  'engine/backup',
  'engine/core',
  'engine/gateway',
  'operator',
  'engine/cli',
];

describe('Dockerfile', () => {
  it('defaults to the Node version every npm script runs on', () => {
    expect(dockerfile).toContain(`ARG NODE_VERSION=${pkg.devDependencies.node}`);
    expect(dockerfile).toMatch(/^FROM node:\$\{NODE_VERSION\}-bookworm-slim$/m);
  });

  it('installs production dependencies of the runtime workspaces only, and copies their sources', () => {
    expect(dockerfile).toMatch(/npm ci --omit=dev --ignore-scripts/);
    for (const ws of RUNTIME) {
      expect(pkg.workspaces).toContain(ws);
      expect(dockerfile).toContain(`--workspace ${ws} `);
      expect(dockerfile).toContain(`COPY ${ws}/src ${ws}/src`);
    }
    for (const ws of ['engine/testing', 'engine/bench', 'test-e2e']) {
      expect(dockerfile).not.toContain(`--workspace ${ws} `);
      expect(dockerfile).not.toContain(`COPY ${ws}/src`);
    }
    // Every workspace manifest must be in the context, or npm ci rejects the lockfile.
    for (const ws of pkg.workspaces as string[])
      expect(dockerfile).toContain(`COPY ${ws}/package.json ${ws}/`);
  });

  it('runs as the numeric non-root user the pods expect, behind an init, with the veloz CLI', () => {
    const names = readFileSync(join(ROOT, 'cdk8s', 'api', 'src', 'names.ts'), 'utf8');
    const runAs = /RUN_AS = (\d+)/.exec(names)![1];
    expect(dockerfile).toContain(`USER ${runAs}:${runAs}`);
    expect(dockerfile).toContain(
      'ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/engine/cli/bin/veloz.js"]',
    );
    const cli = JSON.parse(readFileSync(join(ROOT, 'engine', 'cli', 'package.json'), 'utf8'));
    expect(cli.bin.veloz).toBe('bin/veloz.js');
  });

  it('keeps tests and tooling out of the build context', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['**/node_modules', '**/*.test.ts', '.git', 'docs', 'charts'])
      expect(ignore).toContain(p);
  });
});

describe('the Docker-less build (hack/build-image-rootfs.sh)', () => {
  const contents = readFileSync(join(ROOT, 'hack', 'image-contents.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const rootfs = readFileSync(join(ROOT, 'hack', 'build-image-rootfs.sh'), 'utf8');

  it('ships exactly the files the Dockerfile copies into /app', () => {
    const buildStage = /^FROM \S+ AS build$([\s\S]*?)^FROM /m.exec(dockerfile)?.[1] ?? '';
    const copied = [...buildStage.matchAll(/^COPY (?!--from)(\S+) (\S+)$/gm)]
      .map((m) => m[1])
      .filter((f) => f !== 'scripts/strip-types.ts');
    expect(copied.sort()).toEqual([...contents].sort());
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect([...finalStage.matchAll(/^COPY (?!--from)(\S+) (\S+)$/gm)]).toEqual([]);
    expect(finalStage).toContain('COPY --from=build /app ./');
  });

  it('strips the types in both builds, with the same script (docs/adr/0026)', () => {
    expect(dockerfile).toContain('COPY scripts/strip-types.ts /build/strip-types.ts');
    expect(dockerfile).toContain('RUN node /build/strip-types.ts /app');
    expect(readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n')).toContain(
      '!scripts/strip-types.ts',
    );
    expect(rootfs).toContain('scripts/strip-types.ts "${rootfs}/app"');
  });

  it('has the Dockerfile entrypoint, user, environment and workdir', () => {
    expect(rootfs).toContain('json_array /usr/bin/tini -- node /app/engine/cli/bin/veloz.js');
    expect(rootfs).toContain('"User":"%s:%s"');
    expect(rootfs).toContain('NODE_ENV=production');
    expect(dockerfile).toContain('ENV NODE_ENV=production');
    expect(rootfs).toContain('"WorkingDir":"/app"');
    expect(dockerfile).toContain('WORKDIR /app');
    expect(rootfs).toContain('npm ci --omit=dev --ignore-scripts');
  });

  it('ships no test code: no test, snapshot, fake, testkit, bench or testing-package file', () => {
    // The files the build copies: the listed paths, less the excludes it gives tar.
    const excluded = /(^|\/)(node_modules|__snapshots__|bench|\.veloz-tmp|coverage)(\/|$)|\.test\.ts$/;
    const shipped = execFileSync('git', ['ls-files', '--', ...contents], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f !== '' && !excluded.test(f));
    expect(shipped.length).toBeGreaterThan(50);
    const testCode =
      /\.test\.|__snapshots__|(^|\/)fake|testkit|(^|\/)testing(\/|\.ts$)|test-support|\/bench\//;
    expect(shipped.filter((f) => testCode.test(f))).toEqual([]);
    // The rootfs build refuses the same names in what it actually assembled.
    expect(rootfs).toContain('test code in the image');
  });
});
