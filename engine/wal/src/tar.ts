// Just enough POSIX ustar to stream a WAL snapshot (regular files, names < 100 bytes) and read it
// back as a stream: the format is standard, so `curl .../api/wal/backup | tar t` works too.

/** Bytes per tar header and the unit entries are padded to. */
export const TAR_BLOCK = 512;

export function tarHeader(name: string, size: number, mtimeMs: number): Buffer {
  if (Buffer.byteLength(name) >= 100) throw new Error(`tar entry name too long: ${name}`);
  if (!Number.isSafeInteger(size) || size < 0 || size >= 8 ** 11) throw new Error(`bad tar size ${size}`);
  const h = Buffer.alloc(TAR_BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'ascii');
  h.write('0000000\0', 108, 'ascii');
  h.write('0000000\0', 116, 'ascii');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  h.write(
    `${Math.floor(mtimeMs / 1000)
      .toString(8)
      .padStart(11, '0')}\0`,
    136,
    'ascii',
  );
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

export function tarPadding(size: number): Buffer {
  return Buffer.alloc((TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK);
}

export const TAR_END = Buffer.alloc(2 * TAR_BLOCK);

export class TarError extends Error {}

/** Pulls exact byte counts out of an async stream of chunks. */
class ByteSource {
  private readonly it: AsyncIterator<Buffer>;
  private head: Buffer = Buffer.alloc(0);
  private done = false;

  constructor(src: AsyncIterable<Buffer | Uint8Array | string>) {
    const inner = src[Symbol.asyncIterator]();
    this.it = {
      next: async () => {
        const r = await inner.next();
        if (r.done) return r;
        const v = r.value;
        // A view, not a copy: a gigabyte of WAL passes through here.
        const value =
          typeof v === 'string'
            ? Buffer.from(v)
            : Buffer.isBuffer(v)
              ? v
              : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
        return { done: false, value };
      },
    };
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    // The source may reuse a chunk's buffer once the next chunk is asked for: what is left of it
    // (a header cut by the chunk's end: a few hundred bytes) is copied first.
    if (this.head.length > 0) this.head = Buffer.from(this.head);
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    this.head = this.head.length === 0 ? r.value : Buffer.concat([this.head, r.value]);
    return true;
  }

  /** Exactly n bytes, or fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.head.length < n && (await this.fill()));
    const out = this.head.subarray(0, n);
    this.head = this.head.subarray(out.length);
    return out;
  }

  /**
   * Up to `left.n` bytes (counted down in `left`), without holding them all: as they arrive, or
   * gathered into blocks of `block` bytes (one copy; then whoever checks and writes them pays
   * per block, not per network read).
   */
  async *chunks(left: { n: number }, block: number): AsyncGenerator<Buffer> {
    while (left.n > 0) {
      const want = Math.min(left.n, block);
      if (this.head.length >= want) {
        const take = await this.next(left.n);
        left.n -= take.length;
        yield take;
        continue;
      }
      const out = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const take = await this.next(want - got);
        take.copy(out, got);
        got += take.length;
      }
      left.n -= want;
      yield out;
    }
  }

  async next(max: number): Promise<Buffer> {
    if (this.head.length === 0 && !(await this.fill())) {
      throw new TarError(`stream ended ${max} bytes before the end of an entry`);
    }
    const take = this.head.subarray(0, Math.min(max, this.head.length));
    this.head = this.head.subarray(take.length);
    return take;
  }
}

export interface TarEntry {
  name: string;
  size: number;
  /** Must be consumed completely before the next entry is requested. */
  body: AsyncGenerator<Buffer>;
}

/**
 * Reads a tar stream entry by entry; a truncated stream or a bad header is a TarError. Entry
 * bodies come in blocks of `block` bytes (the last one shorter); 0: as the bytes arrive. A chunk
 * of `src` is not used once the next one is asked for (its buffer may be reused), and with block
 * 0 neither is a chunk of an entry's body once its consumer asks for the next. With block 0 those
 * chunks are views of `src`'s (at most one read per chunk): valid as long as `src` keeps them.
 */
export async function* readTar(
  src: AsyncIterable<Buffer | Uint8Array | string>,
  block = 0,
): AsyncGenerator<TarEntry> {
  const bytes = new ByteSource(src);
  for (;;) {
    const h = await bytes.read(TAR_BLOCK);
    if (h.length < TAR_BLOCK) throw new TarError('stream ended without the end-of-archive blocks');
    if (h.every((b) => b === 0)) return;
    let sum = 0;
    for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    const stored = parseInt(h.toString('ascii', 148, 156).replace(/\0.*$/, '').trim(), 8);
    if (stored !== sum) throw new TarError('tar header checksum mismatch');
    const name = h.toString('utf8', 0, 100).replace(/\0.*$/s, '');
    const size = parseInt(h.toString('ascii', 124, 136).replace(/\0.*$/, '').trim(), 8);
    const type = h.toString('ascii', 156, 157);
    if (!Number.isSafeInteger(size)) throw new TarError(`bad size in the tar header of ${name}`);
    if (type !== '0' && type !== '\0') throw new TarError(`unexpected tar entry type "${type}" for ${name}`);
    const left = { n: size };
    yield { name, size, body: bytes.chunks(left, block) };
    // Whatever the consumer left unread is skipped, so the next header is found.
    while (left.n > 0) left.n -= (await bytes.next(left.n)).length;
    const pad = (TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK;
    if (pad > 0 && (await bytes.read(pad)).length < pad)
      throw new TarError('stream ended inside tar padding');
  }
}
