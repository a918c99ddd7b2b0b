import { crc32c } from '@node-rs/crc32';
import { describe, expect, it } from 'vitest';
import { NATIVE_FROM, crc32cRange, crc32cSkipping } from './crc32c.ts';

describe('crc32cRange', () => {
  const buf = Buffer.alloc(4096);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 2654435761) >>> 24;

  it.each([0, 1, 3, 7, 8, 9, 15, 16, 63, 64, NATIVE_FROM - 1, NATIVE_FROM, NATIVE_FROM + 1, 1000])(
    'equals the native CRC32C of %i bytes, at any offset and continuing any CRC',
    (len) => {
      for (const start of [0, 1, 5, 8, 13]) {
        const bytes = buf.subarray(start, start + len);
        expect(crc32cRange(buf, start, start + len)).toBe(crc32c(bytes));
        expect(crc32cRange(buf, start, start + len, 0xdeadbeef)).toBe(crc32c(bytes, 0xdeadbeef));
      }
    },
  );

  it('chains like one checksum over both ranges', () => {
    expect(crc32cRange(buf, 40, 100, crc32cRange(buf, 0, 40))).toBe(crc32c(buf.subarray(0, 100)));
  });
});

describe('crc32cSkipping', () => {
  const buf = Buffer.alloc(4096);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 2246822519) >>> 25;

  it.each([0, 1, 7, 8, 24, 56, 88, NATIVE_FROM - 1, NATIVE_FROM, NATIVE_FROM + 1, 1000])(
    'equals the native CRC32C of 4 bytes then %i bytes after a gap, at any offset',
    (len) => {
      for (const start of [0, 1, 6, 8, 13]) {
        const from = start + 8;
        const expected = crc32c(buf.subarray(from, from + len), crc32c(buf.subarray(start, start + 4)));
        expect(crc32cSkipping(buf, start, from, from + len)).toBe(expected);
      }
    },
  );
});
