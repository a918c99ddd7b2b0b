// Writes a stream of chunks to a file in large blocks with one write in flight, so disk I/O
// overlaps with receiving and checking the next bytes instead of alternating with it.
import type { FileHandle } from 'node:fs/promises';

const BLOCK = 4 * 1024 * 1024;

/** One vectored write of every chunk (no copy into one buffer), finishing a short write. */
export async function writeFully(fh: FileHandle, chunks: Buffer[]): Promise<void> {
  let left = chunks;
  while (left.length > 0) {
    let n = (await fh.writev(left)).bytesWritten;
    while (left.length > 0 && n >= left[0]!.length) {
      n -= left[0]!.length;
      left = left.slice(1);
    }
    if (left.length > 0 && n > 0) left = [left[0]!.subarray(n), ...left.slice(1)];
  }
}

export class FileSink {
  private readonly fh: FileHandle;
  private inflight: Promise<void> = Promise.resolve();
  private chunks: Buffer[] = [];
  private size = 0;
  written = 0;

  constructor(fh: FileHandle) {
    this.fh = fh;
  }

  async push(chunk: Buffer): Promise<void> {
    this.chunks.push(chunk);
    this.size += chunk.length;
    this.written += chunk.length;
    if (this.size >= BLOCK) await this.kick();
  }

  private async kick(): Promise<void> {
    const data = this.chunks;
    this.chunks = [];
    this.size = 0;
    await this.inflight;
    this.inflight = writeFully(this.fh, data);
    // Awaited by the next kick() or end(); this only keeps it from counting as unhandled meanwhile.
    this.inflight.catch(() => undefined);
  }

  /** Writes what is buffered and waits for every write. */
  async end(): Promise<void> {
    if (this.size > 0) await this.kick();
    await this.inflight;
  }
}
