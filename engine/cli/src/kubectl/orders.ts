// `kubectl veloz orders`: one desk-wide view merged from every pair, each order with its pair.
import type { Order } from '@veloz/api/http/contract';
import { isOpen } from './desk-status.ts';
import { table, type Paint } from './output.ts';

export type DeskOrder = Order & { pair: number };

export interface OrderFilter {
  open?: boolean;
  symbol?: string | undefined;
}

/** The orders of every pair read, oldest first (ties by pair, then order id). */
export function mergeOrders(
  pairs: Array<{ index: number; orders?: Order[] | undefined }>,
  f: OrderFilter = {},
): DeskOrder[] {
  return pairs
    .flatMap((p) => (p.orders ?? []).map((o) => ({ ...o, pair: p.index })))
    .filter((o) => (!f.open || isOpen(o)) && (!f.symbol || o.symbol === f.symbol))
    .sort((a, b) => a.createdAt - b.createdAt || a.pair - b.pair || a.orderId - b.orderId);
}

export function ordersText(orders: DeskOrder[], p: Paint): string {
  if (orders.length === 0) return 'No orders.\n';
  const status = (o: DeskOrder): string =>
    o.status === 'FILLED'
      ? p.good(o.status)
      : o.status === 'REJECTED' || o.status === 'UNKNOWN'
        ? p.bad(o.status)
        : isOpen(o)
          ? p.warn(o.status)
          : o.status;
  return `${table([
    [
      'PAIR',
      'ORDER',
      'CLIENT ORDER ID',
      'SYMBOL',
      'SIDE',
      'TYPE',
      'STATUS',
      'QUANTITY',
      'FILLED',
      'PRICE',
      'AVG PRICE',
      'STRATEGY',
      'CREATED',
    ],
    ...orders.map((o) => [
      String(o.pair),
      String(o.orderId),
      o.clientOrderId,
      o.symbol,
      o.side,
      o.type,
      status(o),
      o.quantity,
      o.filledQuantity,
      o.price,
      o.avgPrice,
      o.strategy || '-',
      new Date(o.createdAt).toISOString(),
    ]),
  ])}\n`;
}
