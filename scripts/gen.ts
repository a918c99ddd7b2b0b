// npm run gen: regenerates every generated file (see scripts/generated.ts).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { GENERATED } from './generated.ts';

const root = join(import.meta.dirname, '..');
for (const [path, make] of Object.entries(GENERATED)) {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), make());
  console.log(`generated ${path}`);
}
