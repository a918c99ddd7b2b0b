import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ORDER_STATUSES } from '@veloz/engine/domain/order-state';
import { ORDER_TYPES, SIDES, TIME_IN_FORCES } from '@veloz/engine/domain/order';
import { PayloadError } from './binary.ts';
import { RecordType } from './format.ts';
import {
  decodeOrderRecord,
  decodeOrderRecordReused,
  decodeRotation,
  decodeStrategyHalt,
  decodeTradingHalt,
  encodeOrderRecord,
  encodeRotation,
  encodeStrategyHalt,
  encodeTradingHalt,
  type OrderRecord,
} from './payloads.ts';

const CASES: Array<{ name: string; rec: OrderRecord }> = [
  {
    name: 'limit buy',
    rec: {
      type: RecordType.OrderNew,
      data: {
        orderId: 1,
        clientOrderId: 'web-123',
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        price: 5_000_000,
        quantity: 1000,
        strategy: '',
      },
    },
  },
  {
    name: 'market sell with a strategy and unicode',
    rec: {
      type: RecordType.OrderNew,
      data: {
        orderId: Number.MAX_SAFE_INTEGER,
        clientOrderId: 'ü-🚀',
        symbol: 'ETHUSDT',
        side: 'SELL',
        type: 'MARKET',
        timeInForce: 'IOC',
        price: 0,
        quantity: 1,
        strategy: 'grid-1',
      },
    },
  },
  {
    name: 'update with reason and exchange id',
    rec: {
      type: RecordType.OrderUpdate,
      data: { orderId: 9, status: 'REJECTED', reason: 'insufficient balance', exchangeOrderId: '28457' },
    },
  },
  {
    name: 'update with empty strings',
    rec: {
      type: RecordType.OrderUpdate,
      data: { orderId: 9, status: 'UNKNOWN', reason: '', exchangeOrderId: '' },
    },
  },
  {
    name: 'fill',
    rec: {
      type: RecordType.OrderFill,
      data: { orderId: 3, quantity: 250, price: 4_999_950, tradeId: 2 ** 40 },
    },
  },
  { name: 'cancel', rec: { type: RecordType.OrderCancel, data: { orderId: 4, reason: 'user' } } },
  {
    name: 'new order with its exchange client order id',
    rec: {
      type: RecordType.OrderNew,
      data: {
        orderId: 5,
        clientOrderId: 'veloz-5',
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        price: 5_000_000,
        quantity: 1000,
        strategy: 'grid-1',
        exchangeClientOrderId: 'vz-k3f9a2-0-ab12-5-mi3k2b1c',
      },
    },
  },
  {
    name: 'fill with a commission',
    rec: {
      type: RecordType.OrderFill,
      data: {
        orderId: 3,
        quantity: 250,
        price: 4_999_950,
        tradeId: 7,
        commission: { asset: 'BNB', amount: 1234 },
      },
    },
  },
];

describe('order record payloads', () => {
  it.each(CASES)('round-trips $name', ({ rec }) => {
    const buf = encodeOrderRecord(rec);
    expect(decodeOrderRecord(rec.type, buf)).toEqual(rec);
  });

  it('decodes into one reused object per type, with the same fields as an owned copy', () => {
    // Every case twice, in turn: what one record left in the reused object never shows in the next.
    for (const { rec } of [...CASES, ...CASES.toReversed()]) {
      const buf = Buffer.concat([Buffer.from([9, 9]), encodeOrderRecord(rec), Buffer.from([9])]);
      const reused = decodeOrderRecordReused(rec.type, buf, 2, buf.length - 1);
      const owned = decodeOrderRecord(rec.type, buf, 2, buf.length - 1);
      expect(owned).toStrictEqual(rec);
      expect({ type: reused.type, data: { ...reused.data } }).toEqual(rec);
      expect(decodeOrderRecordReused(rec.type, buf, 2, buf.length - 1)).toBe(reused);
      expect(owned.data).not.toBe(reused.data);
    }
  });

  it.each(ORDER_STATUSES.map((s, i) => ({ s, i })))('encodes status $s as code $i', ({ s, i }) => {
    const buf = encodeOrderRecord({
      type: RecordType.OrderUpdate,
      data: { orderId: 1, status: s, reason: '', exchangeOrderId: '' },
    });
    // Codes are positions in ORDER_STATUSES: reordering that list would change the file format.
    expect(buf[8]).toBe(i);
  });

  it('is compact: a fill is four u64s', () => {
    expect(encodeOrderRecord(CASES[4]!.rec).length).toBe(32);
  });

  it('replays a fill written before commissions were recorded', () => {
    // The layout of every fill written so far: orderId 3, quantity 250, price 4999950, tradeId 2^40.
    const old = Buffer.from(
      '0300000000000000' + 'fa00000000000000' + '0e4b4c0000000000' + '0000000000010000',
      'hex',
    );
    expect(decodeOrderRecord(RecordType.OrderFill, old)).toEqual(CASES[4]!.rec);
    expect(encodeOrderRecord(CASES[4]!.rec)).toEqual(old);
  });

  it('replays an order written before exchange client order ids were recorded', () => {
    const rec = CASES[0]!.rec;
    const withId = encodeOrderRecord({
      ...rec,
      data: { ...rec.data, exchangeClientOrderId: 'vz-a-0-_-1-1' },
    } as OrderRecord);
    // The older layout is the newer one without the marker and the id: both replay.
    const old = encodeOrderRecord(rec);
    expect(withId.subarray(0, old.length)).toEqual(old);
    expect(decodeOrderRecord(RecordType.OrderNew, old)).toEqual(rec);
    expect(() =>
      decodeOrderRecord(RecordType.OrderNew, Buffer.concat([old, Buffer.from([2, 0, 0, 0, 0])])),
    ).toThrow(PayloadError);
  });

  it('round-trips any record', () => {
    const str = fc.string({ unit: 'grapheme', maxLength: 40 });
    const u64 = fc.maxSafeNat();
    const rec: fc.Arbitrary<OrderRecord> = fc.oneof(
      fc.record({
        type: fc.constant(RecordType.OrderNew),
        data: fc.record(
          {
            orderId: u64,
            clientOrderId: str,
            symbol: str,
            side: fc.constantFrom(...SIDES),
            type: fc.constantFrom(...ORDER_TYPES),
            timeInForce: fc.constantFrom(...TIME_IN_FORCES),
            price: u64,
            quantity: u64,
            strategy: str,
            exchangeClientOrderId: str,
          },
          {
            requiredKeys: [
              'orderId',
              'clientOrderId',
              'symbol',
              'side',
              'type',
              'timeInForce',
              'price',
              'quantity',
              'strategy',
            ],
          },
        ),
      }),
      fc.record({
        type: fc.constant(RecordType.OrderUpdate),
        data: fc.record({
          orderId: u64,
          status: fc.constantFrom(...ORDER_STATUSES),
          reason: str,
          exchangeOrderId: str,
        }),
      }),
      fc.record({
        type: fc.constant(RecordType.OrderFill),
        data: fc.record(
          {
            orderId: u64,
            quantity: u64,
            price: u64,
            tradeId: u64,
            commission: fc.record({ asset: str, amount: u64 }),
          },
          { requiredKeys: ['orderId', 'quantity', 'price', 'tradeId'] },
        ),
      }),
      fc.record({
        type: fc.constant(RecordType.OrderCancel),
        data: fc.record({ orderId: u64, reason: str }),
      }),
    );
    fc.assert(
      fc.property(rec, (r) => {
        expect(decodeOrderRecord(r.type, encodeOrderRecord(r))).toEqual(r);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws anything but PayloadError on arbitrary bytes', () => {
    const types = [RecordType.OrderNew, RecordType.OrderUpdate, RecordType.OrderFill, RecordType.OrderCancel];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 80 }), (type, bytes) => {
        try {
          decodeOrderRecord(type, Buffer.from(bytes));
        } catch (e) {
          expect(e).toBeInstanceOf(PayloadError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    {
      name: 'a truncated fill',
      type: RecordType.OrderFill,
      edit: (b: Buffer) => b.subarray(0, 31),
      msg: /shorter/,
    },
    {
      name: 'a fill with trailing bytes',
      type: RecordType.OrderFill,
      edit: (b: Buffer) => Buffer.concat([b, Buffer.from([0])]),
      msg: /trailing/,
    },
    {
      name: 'a fill decoded as a cancel',
      type: RecordType.OrderCancel,
      edit: (b: Buffer) => b,
      msg: /shorter|trailing/,
    },
    {
      name: 'a checkpoint',
      type: RecordType.Checkpoint,
      edit: (b: Buffer) => b,
      msg: /not an order record/,
    },
    {
      name: 'a rotation',
      type: RecordType.Rotation,
      edit: (b: Buffer) => b,
      msg: /not an order record/,
    },
  ])('refuses $name', ({ type, edit, msg }) => {
    const buf = edit(encodeOrderRecord(CASES[4]!.rec));
    expect(() => decodeOrderRecord(type, buf)).toThrow(PayloadError);
    expect(() => decodeOrderRecord(type, buf)).toThrow(msg);
  });

  it.each([
    { name: 'side', offset: 8 + 2 + 7 + 2 + 7, msg: /unknown side code 2/ },
    { name: 'order type', offset: 8 + 2 + 7 + 2 + 7 + 1, msg: /unknown order type code 2/ },
    { name: 'time in force', offset: 8 + 2 + 7 + 2 + 7 + 2, msg: /unknown time in force code 2/ },
  ])('refuses an unknown $name code', ({ offset, msg }) => {
    const buf = Buffer.from(encodeOrderRecord(CASES[0]!.rec));
    buf[offset] = 2;
    expect(() => decodeOrderRecord(RecordType.OrderNew, buf)).toThrow(msg);
  });

  it('refuses an unknown status code', () => {
    const buf = Buffer.from(encodeOrderRecord(CASES[2]!.rec));
    buf[8] = ORDER_STATUSES.length;
    expect(() => decodeOrderRecord(RecordType.OrderUpdate, buf)).toThrow(/unknown status code 10/);
  });

  it('refuses to encode values the format cannot hold', () => {
    const base = CASES[0]!.rec;
    if (base.type !== RecordType.OrderNew) throw new Error('fixture');
    const bad = (over: object): OrderRecord => ({
      type: RecordType.OrderNew,
      data: { ...base.data, ...over },
    });
    expect(() => encodeOrderRecord(bad({ side: 'HOLD' }))).toThrow(RangeError);
    expect(() => encodeOrderRecord(bad({ price: -1 }))).toThrow(RangeError);
    expect(() => encodeOrderRecord(bad({ quantity: 0.5 }))).toThrow(RangeError);
    expect(() => encodeOrderRecord(bad({ clientOrderId: '\udc00' }))).toThrow(RangeError);
  });
});

describe('rotation payload', () => {
  it.each([1, 2, 99, 2 ** 40])('round-trips segment %i', (n) => {
    const buf = encodeRotation({ sealedSegment: n });
    expect(buf.length).toBe(8);
    expect(decodeRotation(buf)).toEqual({ sealedSegment: n });
  });

  it('refuses a short or long payload', () => {
    expect(() => decodeRotation(Buffer.alloc(7))).toThrow(PayloadError);
    expect(() => decodeRotation(Buffer.alloc(9))).toThrow(PayloadError);
  });
});

describe('trading halt payload', () => {
  it('round-trips a halt and a resume', () => {
    for (const p of [
      { halted: true, reason: 'incident 42' },
      { halted: false, reason: '' },
    ])
      expect(decodeTradingHalt(encodeTradingHalt(p))).toEqual(p);
  });

  it('refuses a flag that is neither 0 nor 1, and trailing bytes', () => {
    const bad = encodeTradingHalt({ halted: true, reason: 'x' });
    bad[0] = 2;
    expect(() => decodeTradingHalt(bad)).toThrow(PayloadError);
    const long = Buffer.concat([encodeTradingHalt({ halted: false, reason: '' }), Buffer.from([0])]);
    expect(() => decodeTradingHalt(long)).toThrow(PayloadError);
  });

  it('is a record type of its own, not an order record', () => {
    expect(RecordType.TradingHalt).toBe(7);
    expect(() =>
      decodeOrderRecord(RecordType.TradingHalt, encodeTradingHalt({ halted: true, reason: '' })),
    ).toThrow(PayloadError);
  });
});

describe('strategy halt payload', () => {
  const halt = {
    strategy: 'grid-btc',
    halted: true,
    version: 3,
    guardrail: 'maxLoss',
    value: '-12.50000000',
    limit: '10.00',
    reason: 'maxLoss crossed',
  };

  it('round-trips a halt and a resume', () => {
    const resume = {
      strategy: 'grid-btc',
      halted: false,
      version: 4,
      guardrail: '',
      value: '',
      limit: '',
      reason: '',
    };
    for (const p of [halt, resume]) expect(decodeStrategyHalt(encodeStrategyHalt(p))).toEqual(p);
  });

  it('refuses a flag that is neither 0 nor 1, and trailing bytes', () => {
    const bad = encodeStrategyHalt(halt);
    bad[2 + 'grid-btc'.length] = 2;
    expect(() => decodeStrategyHalt(bad)).toThrow(PayloadError);
    expect(() => decodeStrategyHalt(Buffer.concat([encodeStrategyHalt(halt), Buffer.from([0])]))).toThrow(
      PayloadError,
    );
  });

  it('is a record type of its own, not an order record', () => {
    expect(RecordType.StrategyHalt).toBe(9);
    expect(() => decodeOrderRecord(RecordType.StrategyHalt, encodeStrategyHalt(halt))).toThrow(PayloadError);
  });
});
