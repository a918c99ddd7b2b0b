// The engine's settings that can only be checked by using them: loadConfig() knows VELOZ_WAL_DIR
// is a non-empty path, not whether the engine can write there. Checked before the WAL is opened,
// so each failure names its variable (and exits 2 like any bad value) instead of surfacing as a
// bare errno from deep inside recovery, or, under /proc, never returning at all.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { invalidValue, VARIABLES, type Config } from '@veloz/api/variables';
import { explainFsError, writableDirectoryProblem } from '@veloz/common/directory';
import { unresolvableHost } from '@veloz/common/listen';

export interface StartupChecks {
  /** HTTP mode: the host must resolve. */
  listens: boolean;
  /** The flag that set a variable, when one did (named in the message). */
  flags: { host?: string; walDir?: string };
}

/** Why the PostgreSQL URI file cannot be read (absent is fine: no shipping), or undefined. */
async function uriFileProblem(path: string): Promise<string | undefined> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) return 'it is a directory';
    if (!st.isFile()) return 'it is not a regular file';
    await access(path, constants.R_OK);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : explainFsError(err);
  }
}

/** One message per setting the engine cannot start with; empty when it can. */
export async function startupProblems(c: Config, o: StartupChecks): Promise<string[]> {
  const problems: string[] = [];
  if (o.listens) {
    const why = await unresolvableHost(c.host);
    if (why) problems.push(invalidValue(VARIABLES.host, c.host, VARIABLES.host.accepts, why, o.flags.host));
  }
  const walDir = await writableDirectoryProblem(c.walDir);
  if (walDir)
    problems.push(
      invalidValue(
        VARIABLES.walDir,
        c.walDir,
        'a directory the engine can create files in',
        walDir,
        o.flags.walDir,
      ),
    );
  if (c.walPostgresUri === undefined) {
    const why = await uriFileProblem(c.walPostgresUriFile);
    if (why)
      problems.push(
        invalidValue(
          VARIABLES.walPostgresUriFile,
          c.walPostgresUriFile,
          'a readable file, or a path that does not exist (no shipping)',
          why,
        ),
      );
  }
  return problems;
}
