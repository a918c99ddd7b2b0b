import { describe, expect, it } from 'vitest';
import {
  IllegalTransitionError,
  ORDER_STATUSES,
  assertTransition,
  canFill,
  canTransition,
  isTerminal,
  type OrderStatus,
} from './order-state.ts';

// The expected table is written out independently of the implementation's, so a change to
// either one shows up here as a named cell.
const LEGAL: Record<OrderStatus, readonly OrderStatus[]> = {
  NEW: ['SUBMITTED', 'ACCEPTED', 'PARTIALLY_FILLED', 'FILLED', 'REJECTED', 'EXPIRED', 'CANCELED', 'UNKNOWN'],
  SUBMITTED: [
    'ACCEPTED',
    'PARTIALLY_FILLED',
    'FILLED',
    'PENDING_CANCEL',
    'CANCELED',
    'REJECTED',
    'EXPIRED',
    'UNKNOWN',
  ],
  ACCEPTED: ['PARTIALLY_FILLED', 'FILLED', 'PENDING_CANCEL', 'CANCELED', 'EXPIRED', 'UNKNOWN'],
  PARTIALLY_FILLED: ['PARTIALLY_FILLED', 'FILLED', 'PENDING_CANCEL', 'CANCELED', 'EXPIRED', 'UNKNOWN'],
  PENDING_CANCEL: ['ACCEPTED', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'EXPIRED', 'UNKNOWN'],
  UNKNOWN: [
    'SUBMITTED',
    'ACCEPTED',
    'PARTIALLY_FILLED',
    'FILLED',
    'PENDING_CANCEL',
    'CANCELED',
    'REJECTED',
    'EXPIRED',
    'UNKNOWN',
  ],
  FILLED: [],
  CANCELED: [],
  REJECTED: [],
  EXPIRED: [],
};

const ALL_PAIRS = ORDER_STATUSES.flatMap((from) =>
  ORDER_STATUSES.map((to) => ({ from, to, legal: LEGAL[from].includes(to) })),
);

describe('order state machine', () => {
  it('lists every status of DESIGN §6 exactly once', () => {
    expect([...ORDER_STATUSES].sort()).toEqual(Object.keys(LEGAL).sort());
  });

  it.each(ALL_PAIRS.filter((p) => p.legal))('allows $from -> $to', ({ from, to }) => {
    expect(canTransition(from, to)).toBe(true);
    expect(() => assertTransition(7, from, to)).not.toThrow();
  });

  it.each(ALL_PAIRS.filter((p) => !p.legal))('refuses $from -> $to', ({ from, to }) => {
    expect(canTransition(from, to)).toBe(false);
    let err: unknown;
    try {
      assertTransition(7, from, to);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IllegalTransitionError);
    expect(err).toMatchObject({ from, to, message: `order 7: illegal transition ${from} -> ${to}` });
  });

  it.each([
    { status: 'NEW', terminal: false, fillable: true },
    { status: 'SUBMITTED', terminal: false, fillable: true },
    { status: 'ACCEPTED', terminal: false, fillable: true },
    { status: 'PARTIALLY_FILLED', terminal: false, fillable: true },
    { status: 'PENDING_CANCEL', terminal: false, fillable: true },
    { status: 'UNKNOWN', terminal: false, fillable: true },
    { status: 'FILLED', terminal: true, fillable: false },
    { status: 'CANCELED', terminal: true, fillable: false },
    { status: 'REJECTED', terminal: true, fillable: false },
    { status: 'EXPIRED', terminal: true, fillable: false },
  ] satisfies Array<{ status: OrderStatus; terminal: boolean; fillable: boolean }>)(
    '$status: terminal=$terminal fillable=$fillable',
    ({ status, terminal, fillable }) => {
      expect(isTerminal(status)).toBe(terminal);
      expect(canFill(status)).toBe(fillable);
      // Terminal statuses are exactly the ones with no way out.
      expect(LEGAL[status].length === 0).toBe(terminal);
    },
  );

  it('never leads back to NEW', () => {
    for (const from of ORDER_STATUSES) expect(canTransition(from, 'NEW')).toBe(false);
  });
});
