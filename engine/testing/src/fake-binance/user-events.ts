// The fake's account events, shaped as user-data-stream.md shows them: `executionReport` for
// every change of an order (NEW, TRADE, CANCELED, EXPIRED) and `outboundAccountPosition` for the
// balances it moved.
import type { FakeOrder, FakeTrade } from './server.ts';

export type ExecutionType = 'NEW' | 'TRADE' | 'CANCELED' | 'EXPIRED';

const units = (v: bigint): string => {
  const a = v < 0n ? -v : v;
  return `${v < 0n ? '-' : ''}${a / 100_000_000n}.${(a % 100_000_000n).toString().padStart(8, '0')}`;
};

let executionId = 1;

export function executionReport(
  o: FakeOrder,
  x: ExecutionType,
  time: number,
  trade?: FakeTrade,
  cancelClientOrderId?: string,
): Record<string, unknown> {
  return {
    e: 'executionReport',
    E: time,
    s: o.symbol,
    // A cancel names itself in c and the order it canceled in C.
    c: cancelClientOrderId ?? o.clientOrderId,
    S: o.side,
    o: o.type,
    f: o.timeInForce,
    q: units(o.origQty),
    p: units(o.price),
    P: '0.00000000',
    F: '0.00000000',
    g: -1,
    C: cancelClientOrderId ? o.clientOrderId : '',
    x,
    X: o.status,
    r: 'NONE',
    i: o.orderId,
    l: units(trade?.qty ?? 0n),
    z: units(o.executedQty),
    L: units(trade?.price ?? 0n),
    n: trade ? units(trade.commission) : '0',
    N: trade ? trade.commissionAsset : null,
    T: time,
    t: trade?.id ?? -1,
    I: executionId++,
    w: o.status === 'NEW' || o.status === 'PARTIALLY_FILLED',
    m: trade?.isMaker ?? false,
    M: false,
    O: o.time,
    Z: units(o.cummulativeQuoteQty),
    Y: units(trade ? (trade.price * trade.qty) / 100_000_000n : 0n),
    Q: '0.00000000',
    ...(o.status === 'NEW' || o.status === 'PARTIALLY_FILLED' ? { W: o.time } : {}),
    V: 'EXPIRE_MAKER',
  };
}

export function accountPosition(
  time: number,
  balances: Array<[string, { free: bigint; locked: bigint }]>,
): Record<string, unknown> {
  return {
    e: 'outboundAccountPosition',
    E: time,
    u: time,
    B: balances.map(([a, b]) => ({ a, f: units(b.free), l: units(b.locked) })),
  };
}
