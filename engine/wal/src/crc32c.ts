// CRC32C (Castagnoli, reflected) of a byte range, without a Buffer view of it. Most records of an
// order log are 40-100 bytes: for those, a call into @node-rs/crc32 costs more than the checksum
// (the call itself and the view it needs, a heap object per record), so short ranges are computed
// here, eight bytes per step (slicing-by-8), and long ones natively (hardware CRC instructions).
// ADR 0025 has the measurements.
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/**
 * Ranges at least this long go to native code. Below it slicing-by-8 in JavaScript was faster
 * than the native call and its view in CPU time on the development machine (break-even near 200).
 */
export const NATIVE_FROM = 160;

// Int32Array rather than Uint32Array: values stay 32-bit integers for the JIT (a Uint32Array
// element above 2^31 is a heap number).
const T = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const prev = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
})();

/** The register after `buf[start, end)`, from `c` (an unfinished CRC: not inverted). */
function update(buf: Uint8Array, start: number, end: number, c: number): number {
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)) ^ c;
    c =
      T[0x700 + (a & 0xff)]! ^
      T[0x600 + ((a >>> 8) & 0xff)]! ^
      T[0x500 + ((a >>> 16) & 0xff)]! ^
      T[0x400 + (a >>> 24)]! ^
      T[0x300 + buf[i + 4]!]! ^
      T[0x200 + buf[i + 5]!]! ^
      T[0x100 + buf[i + 6]!]! ^
      T[buf[i + 7]!]!;
  }
  for (; i < end; i++) c = T[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}

/**
 * CRC32C of `buf[start, end)` continuing `crc` (the CRC of the bytes before, 0 for none), as
 * @node-rs/crc32's crc32c(bytes, crc) gives it. The range must lie within `buf`.
 */
export function crc32cRange(buf: Buffer, start: number, end: number, crc = 0): number {
  if (end - start >= NATIVE_FROM) return nativeCrc32c(buf.subarray(start, end), crc);
  return ~update(buf, start, end, ~crc) >>> 0;
}

/**
 * CRC32C of `buf[start, start + 4)` followed by `buf[from, end)`: what a WAL record's checksum
 * covers (its length, then everything after its CRC field). One call instead of two, and the
 * first four bytes in one step (slicing-by-4) rather than four: this runs for every record of
 * every segment at each start.
 */
export function crc32cSkipping(buf: Buffer, start: number, from: number, end: number): number {
  const a = (buf[start]! | (buf[start + 1]! << 8) | (buf[start + 2]! << 16) | (buf[start + 3]! << 24)) ^ -1;
  const c =
    T[0x300 + (a & 0xff)]! ^ T[0x200 + ((a >>> 8) & 0xff)]! ^ T[0x100 + ((a >>> 16) & 0xff)]! ^ T[a >>> 24]!;
  if (end - from >= NATIVE_FROM) return nativeCrc32c(buf.subarray(from, end), ~c >>> 0);
  return ~update(buf, from, end, c) >>> 0;
}
