// A directory a process is about to write in (the engine's WAL), checked once at start so that a
// bad path is reported as the setting it came from instead of failing somewhere later.
//
// fs.mkdir(path, { recursive: true }) never settles when a parent exists but cannot hold
// children (anything under /proc, a dangling symlink): the kernel answers ENOENT for the child,
// Node takes that as a missing parent, creates the parent (EEXIST), retries the child, and so on
// forever at full CPU. The walk is therefore done here, where an ENOENT once the parent exists
// is final.
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;

/** `mkdir -p` that fails where fs.mkdir({ recursive: true }) would spin. */
export async function makeDirectory(path: string): Promise<void> {
  try {
    await mkdir(path);
    return;
  } catch (err) {
    if (errno(err) === 'EEXIST') return;
    if (errno(err) !== 'ENOENT' || dirname(path) === path) throw err;
  }
  await makeDirectory(dirname(path));
  try {
    await mkdir(path);
  } catch (err) {
    if (errno(err) !== 'EEXIST') throw err;
  }
}

const WHY: Record<string, string> = {
  ENOENT: 'no such file or directory: a parent is missing, or cannot hold new entries (as under /proc)',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the path is too long',
};

/** An error of the file system as `CODE: what it means here`. */
export function explainFsError(err: unknown): string {
  const code = errno(err);
  const message = err instanceof Error ? err.message : String(err);
  return code ? `${code}: ${WHY[code] ?? message}` : message;
}

/**
 * Why `path` cannot be a directory this process creates files in (it is made when missing), or
 * undefined when it can. A file is created and removed to find out: permission bits say nothing
 * about a read-only mount, a full disk, /proc, or a process running as root.
 */
export async function writableDirectoryProblem(path: string): Promise<string | undefined> {
  try {
    await makeDirectory(path);
    if (!(await stat(path)).isDirectory()) return 'it exists and is not a directory';
  } catch (err) {
    return explainFsError(err);
  }
  // 'w', not 'wx': a probe left behind by a process killed right here must not block the next start.
  const probe = join(path, `.veloz-write-check-${process.pid}`);
  try {
    await (await open(probe, 'w')).close();
    await rm(probe);
  } catch (err) {
    return `cannot create a file in it: ${explainFsError(err)}`;
  }
  return undefined;
}
