// A real, small file system for disk-full tests: a tmpfs of a few megabytes mounted on a fresh
// directory. Mounting needs root (CAP_SYS_ADMIN); smallDiskUnavailable() says why it cannot run.
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  dir: string;
  /** Writes a filler file until the file system answers ENOSPC. */
  fill(): Promise<void>;
  /** Deletes the filler: the disk has room again. */
  free(): Promise<void>;
  unmount(): Promise<void>;
}

/** Why no tmpfs can be mounted here, or null when it can. */
export function smallDiskUnavailable(): string | null {
  if (process.platform !== 'linux') return 'tmpfs mounts need Linux';
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  return null;
}

export async function mountSmallDisk(sizeBytes: number): Promise<SmallDisk> {
  const dir = await mkdtemp(join(tmpdir(), 'veloz-small-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir]);
  const filler = join(dir, 'filler');
  return {
    dir,
    fill: async () => {
      const f = await open(filler, 'a');
      const chunk = Buffer.alloc(64 * 1024);
      try {
        for (;;) await f.write(chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        await f.close();
      }
    },
    free: () => rm(filler, { force: true }),
    unmount: async () => {
      execFileSync('umount', ['-l', dir]);
      await rmdir(dir);
    },
  };
}
