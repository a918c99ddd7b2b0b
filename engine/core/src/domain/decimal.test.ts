import { describe, expect, it } from 'vitest';
import { DecimalError, formatScaled, parseScaled, parseScaledInt } from './decimal.ts';

describe('parseScaled', () => {
  it.each([
    { text: '0', decimals: 0, want: 0n },
    { text: '0', decimals: 8, want: 0n },
    { text: '1', decimals: 2, want: 100n },
    { text: '50000.00', decimals: 2, want: 5_000_000n },
    { text: '50000.5', decimals: 2, want: 5_000_050n },
    { text: '0.010', decimals: 5, want: 1000n },
    { text: '0.00001', decimals: 5, want: 1n },
    // Trailing zeros beyond the precision carry no information, so they are accepted.
    { text: '1.2300000', decimals: 2, want: 123n },
    { text: '1.000000000000000000', decimals: 0, want: 1n },
    { text: '007.5', decimals: 1, want: 75n },
    { text: '99999999999999999999', decimals: 0, want: 99999999999999999999n },
    {
      text: '12345678901234567890.123456789012345678',
      decimals: 18,
      want: 12345678901234567890123456789012345678n,
    },
  ])('$text at $decimals decimals = $want', ({ text, decimals, want }) => {
    expect(parseScaled(text, decimals)).toBe(want);
  });

  it.each([
    { text: '', why: 'empty' },
    { text: '-1', why: 'negative' },
    { text: '+1', why: 'sign' },
    { text: ' 1', why: 'whitespace' },
    { text: '1 ', why: 'whitespace' },
    { text: '1.', why: 'no fraction digits' },
    { text: '.5', why: 'no whole digits' },
    { text: '1e5', why: 'exponent' },
    { text: '1,5', why: 'comma' },
    { text: '0x10', why: 'hex' },
    { text: 'NaN', why: 'not a number' },
    { text: 'Infinity', why: 'not a number' },
    { text: '1.2.3', why: 'two points' },
    { text: '123456789012345678901', why: 'more than 20 whole digits' },
    { text: '1.1234567890123456789', why: 'more than 18 fraction digits' },
  ])('rejects "$text" ($why)', ({ text }) => {
    expect(() => parseScaled(text, 8)).toThrow(DecimalError);
  });

  it.each([
    { text: '0.001', decimals: 2 },
    { text: '1.5', decimals: 0 },
    { text: '50000.001', decimals: 2 },
    { text: '0.000001', decimals: 5 },
  ])('rejects $text with more than $decimals decimal places', ({ text, decimals }) => {
    expect(() => parseScaled(text, decimals)).toThrow(`more than ${decimals} decimal places`);
  });
});

describe('parseScaledInt', () => {
  it.each([
    { text: '9007199254740991', decimals: 0, want: Number.MAX_SAFE_INTEGER },
    { text: '90071992547409.91', decimals: 2, want: Number.MAX_SAFE_INTEGER },
    { text: '0.05', decimals: 2, want: 5 },
  ])('$text at $decimals decimals = $want', ({ text, decimals, want }) => {
    expect(parseScaledInt(text, decimals)).toBe(want);
  });

  it.each([
    { text: '9007199254740992', decimals: 0 },
    { text: '90071992547409.92', decimals: 2 },
    { text: '1', decimals: 16 },
    { text: '99999999999999999999', decimals: 0 },
  ])('rejects $text at $decimals decimals as too large', ({ text, decimals }) => {
    expect(() => parseScaledInt(text, decimals)).toThrow(/too large/);
  });

  it('reports precision before size', () => {
    expect(() => parseScaledInt('99999999999999999999.123', 2)).toThrow(/decimal places/);
  });
});

describe('formatScaled', () => {
  it.each([
    { value: 0, decimals: 0, want: '0' },
    { value: 0, decimals: 2, want: '0.00' },
    { value: 5, decimals: 2, want: '0.05' },
    { value: 100, decimals: 2, want: '1.00' },
    { value: 5_000_050, decimals: 2, want: '50000.50' },
    { value: 1000, decimals: 5, want: '0.01000' },
    { value: -5, decimals: 2, want: '-0.05' },
    { value: -123456, decimals: 3, want: '-123.456' },
    { value: 42, decimals: 0, want: '42' },
    { value: 12345678901234567890123n, decimals: 7, want: '1234567890123456.7890123' },
    { value: -1n, decimals: 7, want: '-0.0000001' },
  ])('$value at $decimals decimals = $want', ({ value, decimals, want }) => {
    expect(formatScaled(value, decimals)).toBe(want);
  });

  it.each([
    { text: '0.00', decimals: 2 },
    { text: '1.23', decimals: 2 },
    { text: '50000.00', decimals: 2 },
    { text: '0.00100', decimals: 5 },
    { text: '123456789', decimals: 0 },
  ])('round-trips $text', ({ text, decimals }) => {
    expect(formatScaled(parseScaled(text, decimals), decimals)).toBe(text);
  });
});
