import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FsStore } from './store.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function store(): Promise<{ root: string; store: FsStore }> {
  const root = await mkdtemp(join(tmpdir(), 'veloz-store-'));
  dirs.push(root);
  return { root, store: new FsStore(root) };
}

/**
 * `n` chunks of `size` bytes (chunk i all byte i) in two buffers used in turn, as the backup's
 * socket reader hands them out: a chunk is filled again once the one after the next is asked for.
 */
async function* reused(n: number, size: number, failAt = -1): AsyncGenerator<Buffer> {
  const bufs = [Buffer.alloc(size), Buffer.alloc(size)];
  for (let i = 0; i < n; i++) {
    // Yielded after an I/O turn, so that a write left running would see the buffer change.
    await new Promise((r) => setImmediate(r));
    if (i === failAt) throw new Error('checksum mismatch');
    yield bufs[i % 2]!.fill(i);
  }
}

describe('FsStore.write', () => {
  it('writes each chunk before its buffer is reused, whatever it writes meanwhile', async () => {
    const { root, store: s } = await store();
    await s.write('a/part', reused(50, 64 * 1024), 50 * 64 * 1024, true);
    await s.sync();
    const got = await readFile(join(root, 'a', 'part'));
    expect(got.equals(Buffer.concat(Array.from({ length: 50 }, (_, i) => Buffer.alloc(64 * 1024, i))))).toBe(
      true,
    );
  });

  it('leaves nothing under the key, nor a temporary file, when the body fails half-way', async () => {
    const { root, store: s } = await store();
    await expect(s.write('a/part', reused(50, 64 * 1024, 20), 50 * 64 * 1024, true)).rejects.toThrow(
      'checksum mismatch',
    );
    await s.sync();
    expect(await readdir(join(root, 'a'))).toEqual([]);
  });
});
