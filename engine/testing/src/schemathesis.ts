// Schemathesis, the property-based API fuzzer: installed once by hack/schemathesis.sh (pinned in
// hack/versions.env, from the Python package index into a cached virtualenv) and run as a child.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);

/** Installs Schemathesis if it is not yet in the cache, and returns its executable. */
export async function schemathesisBin(): Promise<string> {
  const script = join(REPO, 'hack/schemathesis.sh');
  try {
    await run('bash', [script], { encoding: 'utf8' });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`hack/schemathesis.sh failed:\n${stderr}`, { cause: err });
  }
  return (await run('bash', [script, '--print-bin'], { encoding: 'utf8' })).stdout.trim();
}

export interface FuzzRun {
  /** 0 when every check passed. */
  code: number;
  /** What Schemathesis printed: its summary and every failure with a curl line to reproduce it. */
  output: string;
}

/** `schemathesis run ARGS` in `cwd`, which gets whatever it writes. */
export async function schemathesis(args: string[], cwd: string, timeoutMs: number): Promise<FuzzRun> {
  const bin = await schemathesisBin();
  try {
    const { stdout, stderr } = await run(bin, ['run', ...args], {
      cwd,
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: '1' },
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string; killed?: boolean };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}
