// The OrderNew record the benchmarks write: one shape for the WAL replay and the backup benches.
import type { OrderRecord } from '@veloz/wal/payloads';
import { newOrderRecord } from '@veloz/testing/orders';

/** Order `id` for 1000 at `price`, buying and selling in turn. */
export function benchOrderNew(id: number, price: number, strategy = ''): OrderRecord {
  return newOrderRecord(id, {
    clientOrderId: `bench-${id}`,
    side: id % 2 ? 'BUY' : 'SELL',
    price,
    quantity: 1000,
    strategy,
  });
}
