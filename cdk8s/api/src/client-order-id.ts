// The client order ids an engine gives its orders on the exchange (ADR 0018). Several desks, and
// a desk's pairs, may trade on one exchange account; each engine reconciles the account's open
// orders and trades, and must adopt or cancel only its own. So the id names the desk and the
// pair, and the strategy that placed the order (a short tag), within Binance's limit of 36
// characters of ^[.A-Z:/a-z0-9_-]{1,36}$:
//
//   vz-<desk>-<pair>-<tag>-<order id, base 36>-<creation ms, base 36>
//
// desk: 1-6 of [a-z0-9] (render derives it from the desk's namespace and name), pair: 0-999,
// tag: 4 of [a-z0-9] for a strategy's order, `_` for one placed through the API. At most
// 3+6+1+3+1+4+1+8+1+8 = 36 characters while the order id is below 36^8 and the time below 2059.
import { createHash } from 'node:crypto';

export const CLIENT_ORDER_ID_PREFIX = 'vz-';
export const DESK_ID_PATTERN = /^[a-z0-9]{1,6}$/;
/** The exchange's own limit on client order ids (Binance Spot `newClientOrderId`). */
export const EXCHANGE_CLIENT_ORDER_ID = /^[.A-Za-z0-9:/_-]{1,36}$/;
/** Ids of engines before desk identities (`veloz-<order id>-<creation ms, base 36>`): still read. */
export const LEGACY_CLIENT_ORDER_ID = /^veloz-\d+-[0-9a-z]+$/;
const ID = /^vz-([a-z0-9]{1,6})-(\d{1,3})-([a-z0-9]{4}|_)-([0-9a-z]{1,8})-([0-9a-z]{1,8})$/;
const NO_STRATEGY = '_';

export interface DeskPair {
  desk: string;
  pair: number;
}

export interface ParsedClientOrderId extends DeskPair {
  /** The strategy's tag, or '' for an order placed through the API. */
  tag: string;
  orderId: number;
  createdAt: number;
}

function base36(hash: Buffer, length: number): string {
  return BigInt(`0x${hash.toString('hex')}`)
    .toString(36)
    .padStart(length, '0')
    .slice(-length);
}

/** The desk id of VelozDeployment `namespace/name`: 6 characters, the same wherever computed. */
export function deskId(namespace: string, name: string): string {
  return base36(createHash('sha256').update(`${namespace}/${name}`).digest(), 6);
}

/** The 4-character tag of a strategy's orders (`veloz kubectl` and the docs compute it the same way). */
export function strategyTag(strategy: string): string {
  return strategy === '' ? NO_STRATEGY : base36(createHash('sha256').update(strategy).digest(), 4);
}

export function formatClientOrderId(
  id: DeskPair & { strategy: string; orderId: number; createdAt: number },
): string {
  if (!DESK_ID_PATTERN.test(id.desk)) throw new RangeError(`desk id ${id.desk} is not 1-6 of a-z 0-9`);
  if (!Number.isInteger(id.pair) || id.pair < 0 || id.pair > 999)
    throw new RangeError(`pair ${id.pair} is not an integer from 0 to 999`);
  const out = `${CLIENT_ORDER_ID_PREFIX}${id.desk}-${id.pair}-${strategyTag(id.strategy)}-${id.orderId.toString(36)}-${id.createdAt.toString(36)}`;
  if (!EXCHANGE_CLIENT_ORDER_ID.test(out))
    throw new RangeError(`client order id ${out} does not fit the exchange's 36 characters`);
  return out;
}

/** The parts of a desk-and-pair client order id, or undefined for any other id. */
export function parseClientOrderId(cid: string): ParsedClientOrderId | undefined {
  const m = ID.exec(cid);
  if (!m) return undefined;
  return {
    desk: m[1]!,
    pair: Number(m[2]),
    tag: m[3] === NO_STRATEGY ? '' : m[3]!,
    orderId: parseInt(m[4]!, 36),
    createdAt: parseInt(m[5]!, 36),
  };
}

/** Whether `cid` is an order of this desk and pair. */
export function isDeskPairOrder(cid: string, own: DeskPair): boolean {
  const p = parseClientOrderId(cid);
  return p !== undefined && p.desk === own.desk && p.pair === own.pair;
}
