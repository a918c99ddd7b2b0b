// Minimal little-endian writer/reader for compact record payloads.
import { readU64, writeU64 } from './framing.ts';

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

export class BinaryReader {
  private pos = 0;
  private readonly buf: Buffer;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new PayloadError('payload shorter than its fields');
  }

  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.pos++);
  }

  u64(): number {
    this.need(8);
    const v = readU64(this.buf, this.pos);
    this.pos += 8;
    if (!Number.isSafeInteger(v)) throw new PayloadError('integer field out of range');
    return v;
  }

  str(): string {
    this.need(2);
    const len = this.buf.readUInt16LE(this.pos);
    this.need(2 + len);
    const s = this.buf.toString('utf8', this.pos + 2, this.pos + 2 + len);
    this.pos += 2 + len;
    return s;
  }

  remaining(): number {
    return this.buf.length - this.pos;
  }

  end(): void {
    if (this.pos !== this.buf.length) throw new PayloadError('payload has trailing bytes');
  }
}
