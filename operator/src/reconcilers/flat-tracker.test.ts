import { FakeClock } from '@veloz/testing/fake-clock';
import { describe, expect, it } from 'vitest';
import { EngineUnreachableError, type EngineAccess } from '../engine-access.ts';
import { FlatTracker } from './flat-tracker.ts';

/** Engines answering from `book`: per pod, its orders' statuses and its net BTC position. */
function engines(
  book: Map<string, { orders: string[]; btc: string; bought?: string } | 'down'>,
): EngineAccess {
  return {
    call: <T>(ns: string, pod: string, _method: string, path: string) => {
      const e = book.get(pod);
      if (!e || e === 'down') return Promise.reject(new EngineUnreachableError(`engine ${ns}/${pod}: down`));
      const body =
        path === '/api/orders_state'
          ? { orders: e.orders.map((status, i) => ({ orderId: i, status })), lastSequence: 1, next: null }
          : {
              positions: [
                {
                  symbol: 'BTCUSDT',
                  strategy: 'grid',
                  quantity: e.btc,
                  boughtQuantity: e.bought ?? e.btc,
                  soldQuantity: '0',
                },
              ],
            };
      return Promise.resolve({ status: 200, body: body as T });
    },
  };
}

describe('FlatTracker', () => {
  it('counts flat time from the last position change, and not while an order is open', async () => {
    const clock = new FakeClock(Date.parse('2026-12-04T12:00:00Z'));
    const now = () => new Date(clock.now());
    const book = new Map<string, { orders: string[]; btc: string; bought?: string } | 'down'>([
      ['d-engine-0', { orders: ['FILLED', 'CANCELED'], btc: '0.01' }],
      ['d-engine-1', { orders: [], btc: '0' }],
    ]);
    const flat = new FlatTracker(engines(book));
    const pods = ['d-engine-0', 'd-engine-1'];
    const start = now();
    expect(await flat.flatSince('ns', 'd', pods, now())).toEqual(start);
    await clock.advance(30_000, 30_000);
    expect(await flat.flatSince('ns', 'd', pods, now())).toEqual(start);

    // A fill that leaves the net position where it was is still a change.
    book.set('d-engine-0', { orders: ['FILLED', 'FILLED'], btc: '0.01', bought: '0.02' });
    const changed = now();
    expect(await flat.flatSince('ns', 'd', pods, now())).toEqual(changed);

    book.set('d-engine-1', { orders: ['PARTIALLY_FILLED'], btc: '0' });
    await clock.advance(30_000, 30_000);
    expect(await flat.flatSince('ns', 'd', pods, now())).toBeUndefined();
    book.set('d-engine-1', { orders: ['UNKNOWN'], btc: '0' });
    expect(await flat.flatSince('ns', 'd', pods, now())).toBeUndefined();
    book.set('d-engine-1', { orders: ['CANCELED'], btc: '0' });
    const again = now();
    expect(await flat.flatSince('ns', 'd', pods, now())).toEqual(again);
  });

  it('is not flat when an engine does not answer', async () => {
    const flat = new FlatTracker(engines(new Map([['d-engine-0', 'down' as const]])));
    expect(await flat.flatSince('ns', 'd', ['d-engine-0'], new Date())).toBeUndefined();
  });
});
