// The start-up check of a directory to write in, against the cases a bad setting produces.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeDirectory, writableDirectoryProblem } from './directory.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'veloz-dir-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('makeDirectory', () => {
  it('creates every missing level and accepts what exists', async () => {
    await makeDirectory(join(root, 'a', 'b', 'c'));
    await makeDirectory(join(root, 'a', 'b', 'c'));
    expect(await readdir(join(root, 'a', 'b'))).toEqual(['c']);
  });

  // fs.mkdir({ recursive: true }) never settles for this path (its loop between the child's
  // ENOENT and the parent's EEXIST): the walk here must fail instead.
  it.skipIf(!existsSync('/proc/self'))('fails under /proc instead of spinning', async () => {
    await expect(makeDirectory('/proc/veloz-test/wal')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('writableDirectoryProblem', () => {
  it('is undefined for a directory it can create, and leaves nothing in it', async () => {
    const dir = join(root, 'wal');
    expect(await writableDirectoryProblem(dir)).toBeUndefined();
    expect(await readdir(dir)).toEqual([]);
  });

  it('names what is wrong with a file, a path below a file, and a path under /proc', async () => {
    const file = join(root, 'f');
    await writeFile(file, '');
    expect(await writableDirectoryProblem(file)).toBe('it exists and is not a directory');
    expect(await writableDirectoryProblem(join(file, 'wal'))).toMatch(/^ENOTDIR: /);
    if (existsSync('/proc/self')) {
      expect(await writableDirectoryProblem('/proc/veloz-test')).toMatch(/^ENOENT: /);
      expect(await writableDirectoryProblem('/proc/self')).toMatch(/^cannot create a file in it: ENOENT: /);
    }
  });
});
