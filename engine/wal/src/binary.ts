// Minimal little-endian writer/reader for compact record payloads.
import { writeU64 } from './framing.ts';

export class BinaryWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initial = 128) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf.writeUInt8(v, this.pos);
    this.pos += 1;
    return this;
  }

  u64(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`not a non-negative safe integer: ${v}`);
    this.ensure(8);
    writeU64(this.buf, this.pos, v);
    this.pos += 8;
    return this;
  }

  str(s: string): this {
    // UTF-8 would turn a lone surrogate into U+FFFD, and replay would yield another string than
    // the one the live state holds (a different clientOrderId, say).
    if (!s.isWellFormed()) throw new RangeError('string is not well-formed UTF-16 (lone surrogate)');
    const len = Buffer.byteLength(s);
    if (len > 0xffff) throw new RangeError('string too long for a WAL field');
    this.ensure(2 + len);
    this.buf.writeUInt16LE(len, this.pos);
    this.buf.write(s, this.pos + 2);
    this.pos += 2 + len;
    return this;
  }

  done(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

export class PayloadError extends Error {}

const TWO32 = 2 ** 32;
/** The high word of 2^53: a u64 whose high word is below this is a safe integer. */
const SAFE_HIGH = 2 ** 21;

// The throws out of line: the readers stay small enough to inline.
function short(): never {
  throw new PayloadError('payload shorter than its fields');
}

function outOfRange(): never {
  throw new PayloadError('integer field out of range');
}

/** Names decode() keeps, at most this many (a desk trades a few symbols with a few strategies). */
const NAME_CACHE = 32;
/** Longer strings are not names. */
const NAME_MAX = 64;

/**
 * Strings that repeat from record to record (symbols, strategies, fee assets), decoded once: the
 * same bytes give the same string, which later compares by identity. Replaced round-robin.
 */
class NameCache {
  private readonly names: string[] = [];
  private readonly bytes: Buffer[] = [];
  private next = 0;

  get(buf: Buffer, start: number, len: number): string {
    const names = this.names;
    const bytes = this.bytes;
    for (let i = 0; i < names.length; i++) {
      const b = bytes[i]!;
      if (b.length !== len) continue;
      let j = 0;
      while (j < len && b[j] === buf[start + j]) j++;
      if (j === len) return names[i]!;
    }
    const s = buf.toString('utf8', start, start + len);
    const copy = Buffer.from(buf.subarray(start, start + len));
    if (names.length < NAME_CACHE) {
      names.push(s);
      bytes.push(copy);
    } else {
      names[this.next] = s;
      bytes[this.next] = copy;
      this.next = (this.next + 1) % NAME_CACHE;
    }
    return s;
  }
}

const names = new NameCache();

/** Strings up to this many bytes are decoded here when they are ASCII (client order ids). */
const SHORT_MAX = 48;
/** One array of char codes per length, refilled for each string (no allocation per string). */
const CODES: number[][] = Array.from({ length: SHORT_MAX + 1 }, (_, n) => new Array<number>(n).fill(0));

/**
 * `buf[start, start + len)` as UTF-8, `len` at most SHORT_MAX. ASCII bytes are their own code
 * units, so such a string is built from them without Buffer.toString, a call into C++ that cost
 * more than the decoding for every order on replay; anything else goes to it.
 */
function decodeShort(buf: Buffer, start: number, len: number): string {
  const codes = CODES[len]!;
  let any = 0;
  for (let i = 0; i < len; i++) {
    const c = buf[start + i]!;
    any |= c;
    codes[i] = c;
  }
  return any < 0x80 ? String.fromCharCode(...codes) : buf.toString('utf8', start, start + len);
}

/** Reads fields from `buf[start, end)` (the whole buffer by default): no view of them is made. */
export class BinaryReader {
  private pos: number;
  private buf: Buffer;
  private limit: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.limit = end;
  }

  /** Reads `buf[start, end)` from now on (one reader serves every record of a replay). */
  reset(buf: Buffer, start: number, end: number): this {
    this.buf = buf;
    this.pos = start;
    this.limit = end;
    return this;
  }

  private need(n: number): void {
    if (this.pos + n > this.limit) short();
  }

  u8(): number {
    const p = this.pos;
    if (p >= this.limit) short();
    this.pos = p + 1;
    return this.buf[p]!;
  }

  // Replay reads several of these per record: small enough to be inlined into the decoder, no
  // call out for the words and no float test of the value (a safe integer has its high word
  // below 2^21).
  u64(): number {
    const p = this.pos;
    if (p + 8 > this.limit) short();
    const b = this.buf;
    const lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    const hi = b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24);
    this.pos = p + 8;
    if (hi === 0) return lo;
    if (hi >>> 0 >= SAFE_HIGH) outOfRange();
    return lo + hi * TWO32;
  }

  str(): string {
    return this.string(false);
  }

  /** A string field that repeats across records (a symbol, a strategy): see NameCache. */
  name(): string {
    return this.string(true);
  }

  private string(interned: boolean): string {
    this.need(2);
    const len = this.buf[this.pos]! | (this.buf[this.pos + 1]! << 8);
    this.pos += 2;
    // Most reasons, strategies and exchange ids of a log are empty: no decoding call for them.
    if (len === 0) return '';
    this.need(len);
    const s =
      interned && len <= NAME_MAX
        ? names.get(this.buf, this.pos, len)
        : len <= SHORT_MAX
          ? decodeShort(this.buf, this.pos, len)
          : this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  remaining(): number {
    return this.limit - this.pos;
  }

  end(): void {
    if (this.pos !== this.limit) throw new PayloadError('payload has trailing bytes');
  }
}
