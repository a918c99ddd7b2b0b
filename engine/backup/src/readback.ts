// Reads a restored file back in large buffers, to check what landed in it rather than what was
// read on the way there (restore copies stored parts with the kernel, ADR 0027). Two buffers
// are used in turn: a fresh allocation per read costs page faults that show at disk speed.
import type { FileHandle } from 'node:fs/promises';

const CHUNK = 8 * 1024 * 1024;

export class ReadBack {
  private readonly chunkSize: number;
  private readonly bufs: Buffer[];
  private turn = 0;
  private lastLength = 0;

  constructor(chunkSize = CHUNK) {
    this.chunkSize = chunkSize;
    this.bufs = [Buffer.allocUnsafe(chunkSize), Buffer.allocUnsafe(chunkSize)];
  }

  /**
   * Hands `each` the bytes of `fh` from `from` to its end, in order, and returns how many there
   * were. `pending()` says how many of the bytes handed out so far the consumer still points
   * into (a record not complete yet): a buffer holding them is replaced, not overwritten.
   */
  async read(
    fh: FileHandle,
    from: number,
    each: (chunk: Buffer) => void,
    pending: () => number,
  ): Promise<number> {
    let pos = from;
    for (;;) {
      const i = this.turn++ % 2;
      // The buffer read into two turns ago: free unless a record reaches back past the last one.
      if (pending() > this.lastLength) this.bufs[i] = Buffer.allocUnsafe(this.chunkSize);
      const buf = this.bufs[i]!;
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return pos - from;
      this.lastLength = bytesRead;
      pos += bytesRead;
      each(buf.subarray(0, bytesRead));
    }
  }
}
