// Exchange fees recorded with fills: applied to positions (a fee in the base asset leaves less
// to sell, one in the quote asset lowers the realized PnL), summed per asset, kept in
// checkpoints, and a WAL written before fees were recorded still replays.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultInstrument } from '../domain/instrument.ts';
import { RecordType } from '@veloz/wal/format';
import { decodeOrderRecord, encodeOrderRecord, type OrderRecord } from '@veloz/wal/payloads';
import { recoverWal } from '@veloz/wal/recovery';
import { WalWriter } from '@veloz/wal/writer';
import { EngineState } from './state.ts';

// BTCUSDT: prices in cents (2 decimals), quantities in 1e-5 BTC.
const BTC = defaultInstrument('BTCUSDT');
const units = (s: string) => (s === 'BTCUSDT' ? BTC : undefined);

const order = (orderId: number, side: 'BUY' | 'SELL', quantity: number, strategy = ''): OrderRecord => ({
  type: RecordType.OrderNew,
  data: {
    orderId,
    clientOrderId: `c${orderId}`,
    symbol: 'BTCUSDT',
    side,
    type: 'LIMIT',
    timeInForce: 'GTC',
    price: 5_000_000,
    quantity,
    strategy,
  },
});
const accepted = (orderId: number): OrderRecord => ({
  type: RecordType.OrderUpdate,
  data: { orderId, status: 'ACCEPTED', reason: '', exchangeOrderId: String(orderId) },
});
const fill = (
  orderId: number,
  quantity: number,
  commission?: { asset: string; amount: number },
): OrderRecord => ({
  type: RecordType.OrderFill,
  data: { orderId, quantity, price: 5_000_000, tradeId: orderId, ...(commission && { commission }) },
});

function run(state: EngineState, recs: OrderRecord[]): void {
  for (const r of recs) {
    state.check(r);
    state.apply(r, state.lastSequence + 1, 1000);
  }
}

describe('commission', () => {
  it('in the base asset leaves less to sell, rounded up to whole steps', () => {
    const s = new EngineState(100, units);
    // Buy 0.01 BTC paying 0.00001 BTC (1000 x 1e-8), then 0.00000123 BTC on a second fill.
    run(s, [order(1, 'BUY', 2000, 'grid'), accepted(1), fill(1, 1000, { asset: 'BTC', amount: 1000 })]);
    expect(s.position('', 'BTCUSDT').net).toBe(999);
    expect(s.position('grid', 'BTCUSDT').net).toBe(999);
    run(s, [fill(1, 1000, { asset: 'BTC', amount: 123 })]);
    // 0.00001123 BTC of fees: two steps of 0.00001 are no longer there to sell.
    expect(s.position('', 'BTCUSDT').net).toBe(1998);
    // The fee cost what the coins cost: 2 steps at 50000.00.
    expect(s.position('', 'BTCUSDT').realized).toBe(-2n * 5_000_000n);
    expect(s.commissions.get('BTC')).toBe(1123n);
  });

  it('in the quote asset lowers the realized PnL; in another asset it is only summed', () => {
    const s = new EngineState(100, units);
    run(s, [
      order(1, 'SELL', 1000),
      accepted(1),
      fill(1, 1000, { asset: 'USDT', amount: 50_000_000 }), // 0.5 USDT
      order(2, 'BUY', 1000),
      accepted(2),
      fill(2, 1000, { asset: 'BNB', amount: 1_000_000 }),
    ]);
    const p = s.position('', 'BTCUSDT');
    expect(p.net).toBe(0);
    // Notional units are 1e-7 USDT here: 0.5 USDT = 5,000,000.
    expect(p.realized).toBe(-5_000_000n);
    expect(s.commissions).toEqual(
      new Map([
        ['USDT', 50_000_000n],
        ['BNB', 1_000_000n],
      ]),
    );
    expect(p.fees.get('BNB')).toBe(1_000_000n);
  });

  it('survives a checkpoint, and a checkpoint written before fees restores without them', () => {
    const s = new EngineState(100, units);
    run(s, [order(1, 'BUY', 1000), accepted(1), fill(1, 500, { asset: 'BTC', amount: 123 })]);
    const r = new EngineState(100, units);
    r.restore(s.snapshot());
    run(r, [fill(1, 500, { asset: 'BTC', amount: 900 })]);
    run(s, [fill(1, 500, { asset: 'BTC', amount: 900 })]);
    expect(r.snapshot()).toEqual(s.snapshot());
    const old = JSON.parse(new EngineState(100).snapshot().toString()) as Record<string, unknown>;
    expect(old).not.toHaveProperty('commissions');
    const fresh = new EngineState(100, units);
    fresh.restore(Buffer.from(JSON.stringify(old)));
    expect(fresh.commissions.size).toBe(0);
  });

  it('replays a WAL whose fills were written before commissions were recorded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veloz-old-fills-'));
    try {
      const wal = await WalWriter.open(
        { dir, maxSegmentBytes: 1 << 20, maxFiles: 4, sync: false, checkpointInterval: 0 },
        await recoverWal(dir, 'strict', { onCheckpoint: () => {}, onRecord: () => {} }),
      );
      wal.append(RecordType.OrderNew, encodeOrderRecord(order(1, 'BUY', 1000)));
      wal.append(RecordType.OrderUpdate, encodeOrderRecord(accepted(1)));
      // The old fill layout, byte by byte: orderId, quantity, price, tradeId as u64 LE.
      const old = Buffer.alloc(32);
      [1n, 600n, 5_000_000n, 7n].forEach((v, i) => old.writeBigUInt64LE(v, i * 8));
      wal.append(RecordType.OrderFill, old);
      wal.append(RecordType.OrderFill, encodeOrderRecord(fill(1, 400, { asset: 'BTC', amount: 1000 })));
      await wal.close();
      const s = new EngineState(100, units);
      await recoverWal(dir, 'strict', {
        onCheckpoint: (_seq, payload) => s.restore(payload),
        onRecord: (r) => {
          const rec = decodeOrderRecord(r.type, r.payload);
          s.check(rec);
          s.apply(rec, r.seq, r.timestamp);
        },
      });
      const o = s.orders.get(1)!;
      expect(o).toMatchObject({ status: 'FILLED', filledQuantity: 1000 });
      expect(s.position('', 'BTCUSDT').net).toBe(999);
      expect(s.commissions.get('BTC')).toBe(1000n);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
