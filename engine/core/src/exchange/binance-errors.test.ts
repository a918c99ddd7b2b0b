import { describe, expect, it } from 'vitest';
import { fixture } from '@veloz/testing/fake-binance/fixtures';
import { BINANCE_ERROR_CODES, classifyAnswer, OUTCOME_CLASSES } from './binance-errors.ts';

describe('Binance error classes', () => {
  it('classify every code of the docs’ error page, and no other', () => {
    const documented = fixture('error-codes').answer as number[];
    expect(
      Object.keys(BINANCE_ERROR_CODES)
        .map(Number)
        .sort((a, b) => b - a),
    ).toEqual(documented);
  });

  it('give every code a known class and a reason', () => {
    for (const [code, e] of Object.entries(BINANCE_ERROR_CODES)) {
      expect(Object.keys(OUTCOME_CLASSES), code).toContain(e.outcome);
      expect(e.why, code).toBeTruthy();
    }
  });

  it.each([
    // The docs: execution status unknown, whatever the HTTP status.
    [400, -1006, 'An unexpected response was received from the message bus.', 'unknown'],
    [408, -1007, 'Timeout waiting for response from backend server.', 'unknown'],
    [503, -1007, 'Timeout waiting for response from backend server.', 'unknown'],
    [400, -1013, 'Filter failure: LOT_SIZE', 'reject'],
    [400, -2010, 'Account has insufficient balance for requested action.', 'reject'],
    // Our own client id is already on the book: the order exists.
    [400, -2010, 'Duplicate order sent.', 'unknown'],
    [400, -2013, 'Order does not exist.', 'reject'],
    [429, -1003, 'Too many requests.', 'retryable'],
    [418, -1003, 'Way too many requests; IP banned.', 'retryable'],
    [400, -1021, 'Timestamp for this request is outside of the recvWindow.', 'retryable'],
    [401, -2015, 'Invalid API-key, IP, or permissions for action.', 'fatal'],
    [400, -1022, 'Signature for this request is not valid.', 'fatal'],
    [400, -9999, 'a code the docs do not list', 'unknown'],
    [403, undefined, '<html>', 'reject'],
    [429, undefined, '', 'retryable'],
    [502, undefined, 'Bad Gateway', 'unknown'],
    [404, undefined, 'Not Found', 'unknown'],
  ] as const)('HTTP %i code %s (%s) is %s', (status, code, msg, outcome) => {
    expect(classifyAnswer(status, code, msg)).toBe(outcome);
  });
});
