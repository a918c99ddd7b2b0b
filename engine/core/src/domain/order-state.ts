// The order state machine of DESIGN §6 as an explicit table. Anything not listed is illegal.

import { ORDER_STATUSES, type OrderStatus } from '@veloz/api/enums';

export { ORDER_STATUSES, type OrderStatus } from '@veloz/api/enums';

export const TERMINAL_STATUSES: ReadonlySet<OrderStatus> = new Set([
  'FILLED',
  'CANCELED',
  'REJECTED',
  'EXPIRED',
]);

// NEW is created locally; SUBMITTED has been sent to an asynchronous venue. A synchronous venue
// (the simulated engine) answers at once, so NEW may move straight to its outcome.
const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
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
  // A cancel can lose the race against fills, or be refused by the venue.
  PENDING_CANCEL: ['ACCEPTED', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'EXPIRED', 'UNKNOWN'],
  // Unknown is resolved only by asking the venue, which may answer anything but NEW.
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

export class IllegalTransitionError extends Error {
  readonly from: OrderStatus;
  readonly to: OrderStatus;

  constructor(from: OrderStatus, to: OrderStatus, orderId: number) {
    super(`order ${orderId}: illegal transition ${from} -> ${to}`);
    this.from = from;
    this.to = to;
  }
}

// The table as one bit per status, for the check of every record on replay: a switch over the
// statuses' constant strings compares references, where a Map and a Set lookup hashed twice.
function statusIndex(s: OrderStatus): number {
  switch (s) {
    case 'NEW':
      return 0;
    case 'SUBMITTED':
      return 1;
    case 'ACCEPTED':
      return 2;
    case 'PARTIALLY_FILLED':
      return 3;
    case 'FILLED':
      return 4;
    case 'PENDING_CANCEL':
      return 5;
    case 'CANCELED':
      return 6;
    case 'REJECTED':
      return 7;
    case 'EXPIRED':
      return 8;
    case 'UNKNOWN':
      return 9;
  }
}

/** Bit statusIndex(to) of ALLOWED[statusIndex(from)] is set when from -> to is legal. */
const ALLOWED = new Int32Array(ORDER_STATUSES.length);
for (const from of Object.keys(TRANSITIONS) as OrderStatus[]) {
  const f = statusIndex(from);
  for (const to of TRANSITIONS[from]) ALLOWED[f] = ALLOWED[f]! | (1 << statusIndex(to));
}

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  // A status that is not one (a bug elsewhere) has no index: nothing goes from or to it.
  const f = statusIndex(from) as number | undefined;
  const t = statusIndex(to) as number | undefined;
  return f !== undefined && t !== undefined && (ALLOWED[f]! & (1 << t)) !== 0;
}

export function assertTransition(orderId: number, from: OrderStatus, to: OrderStatus): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to, orderId);
}

export function isTerminal(status: OrderStatus): boolean {
  // A switch over constant strings, not a set lookup: every order record on replay asks this.
  switch (status) {
    case 'FILLED':
    case 'CANCELED':
    case 'REJECTED':
    case 'EXPIRED':
      return true;
    default:
      return false;
  }
}

/** Statuses in which an order may still receive fills. */
export function canFill(status: OrderStatus): boolean {
  // Every status that is not terminal may move to PARTIALLY_FILLED or FILLED in TRANSITIONS
  // (asserted below): a switch rather than a set lookup, for every fill record on replay.
  return !isTerminal(status);
}

for (const s of Object.keys(TRANSITIONS) as OrderStatus[]) {
  if (canFill(s) !== (canTransition(s, 'PARTIALLY_FILLED') || canTransition(s, 'FILLED')))
    throw new Error(`order-state: canFill(${s}) disagrees with the transition table`);
}
