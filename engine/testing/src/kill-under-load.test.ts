import { afterEach, describe, expect, it } from 'vitest';
import { startFixture, type Fixture } from './engine-fixture.ts';
import { AckedOrders, restingOrder } from './kill-under-load.ts';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

async function engineUrl(): Promise<string> {
  fx = await startFixture();
  return fx.app.listen({ port: 0, host: '127.0.0.1' });
}

describe('AckedOrders', () => {
  it('records acknowledged places and cancels, and finds nothing lost on the engine that made them', async () => {
    const url = await engineUrl();
    const orders = new AckedOrders();
    await orders.placeAll(url, 6, (i) => restingOrder(`o-${i}`, i), 4);
    const canceled = await orders.cancel(url, 'o-1', orders.acked.get('o-1')!.orderId);
    expect(canceled?.status).toBe('CANCELED');
    expect(orders.acked.size).toBe(6);
    expect(orders.acked.get('o-1')?.status).toBe('CANCELED');
    expect([...orders.cancelSent]).toEqual(['o-1']);
    expect(orders.lastSequence).toBe(canceled?.lastSequence);
    expect(await orders.lostAt(url)).toEqual({ missing: [], behind: [] });
  });

  it('says which acknowledged orders an engine lost or holds in an earlier state', async () => {
    const url = await engineUrl();
    const orders = new AckedOrders();
    await orders.placeAll(url, 3, (i) => restingOrder(`o-${i}`, i));
    await orders.cancel(url, 'o-2', orders.acked.get('o-2')!.orderId);
    // As if acknowledged by an engine that then lost them: a newer sequence, and a cancel.
    orders.acked.set('o-0', { ...orders.acked.get('o-0')!, lastSequence: 1000 });
    orders.acked.set('o-1', { ...orders.acked.get('o-1')!, status: 'CANCELED' });
    orders.acked.set('gone', { orderId: 99, status: 'NEW', filledQuantity: '0', lastSequence: 1 });
    const lost = await orders.lostAt(url);
    expect(lost.missing).toEqual(['gone']);
    expect(lost.behind.map((l) => l.split(':')[0])).toEqual(['o-0', 'o-1']);
  });

  it('throws when the engine refuses an order placeAll sends', async () => {
    const url = await engineUrl();
    const orders = new AckedOrders();
    await expect(
      orders.placeAll(url, 2, (i) => ({ ...restingOrder(`o-${i}`, i), quantity: i ? 'x' : '0.010' })),
    ).rejects.toThrow('orders 0..1: 1 not acknowledged');
    expect([...orders.acked.keys()]).toEqual(['o-0']);
  });
});
