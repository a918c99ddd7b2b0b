import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED } from './generated.ts';

describe('generated files', () => {
  it.each(Object.keys(GENERATED))('%s is up to date (run `npm run gen`)', async (path) => {
    const onDisk = await readFile(join(import.meta.dirname, '..', path), 'utf8').catch(() => '');
    expect(onDisk, `${path} is stale: run npm run gen`).toBe(GENERATED[path]!());
  });
});
