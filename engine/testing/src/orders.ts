// Orders and OrderNew records for engine tests: one set of defaults, each test overriding what it
// is about.
import type { Order } from '@veloz/engine/domain/order';
import { RecordType } from '@veloz/wal/format';
import type { OrderNewPayload, OrderRecord } from '@veloz/wal/payloads';

/** An OrderNew payload for order `orderId`: a BTCUSDT limit buy of 10 at 5,000,000, no strategy. */
export function newOrderPayload(orderId: number, over: Partial<OrderNewPayload> = {}): OrderNewPayload {
  return {
    orderId,
    clientOrderId: `c${orderId}`,
    symbol: 'BTCUSDT',
    side: 'BUY',
    type: 'LIMIT',
    timeInForce: 'GTC',
    price: 5_000_000,
    quantity: 10,
    strategy: '',
    ...over,
  };
}

/** The OrderNew record of newOrderPayload(orderId, over). */
export function newOrderRecord(orderId: number, over: Partial<OrderNewPayload> = {}): OrderRecord {
  return { type: RecordType.OrderNew, data: newOrderPayload(orderId, over) };
}

/** The order newOrderPayload() describes as the state holds it once new (id 1 unless `over` says). */
export function testOrder(over: Partial<Order> = {}): Order {
  return {
    ...newOrderPayload(over.orderId ?? 1),
    filledQuantity: 0,
    filledNotional: 0n,
    status: 'NEW',
    reason: '',
    exchangeOrderId: '',
    createdAt: 0,
    updatedAt: 0,
    lastSequence: 0,
    ...over,
  };
}
