// Payloads of the order records: compact binary, integers only (DESIGN §6).
import type { OrderType, Side, TimeInForce } from '@veloz/api/enums';
import { ORDER_STATUSES, type OrderStatus } from '@veloz/api/enums';
import { BinaryReader, BinaryWriter, PayloadError } from './binary.ts';
import { RecordType } from './framing.ts';

export interface OrderNewPayload {
  orderId: number;
  clientOrderId: string;
  symbol: string;
  side: Side;
  type: OrderType;
  timeInForce: TimeInForce;
  price: number;
  quantity: number;
  strategy: string;
  /**
   * The order's client order id on the exchange, chosen when the order is made (ADR 0018);
   * absent in records written before it was recorded (their id is derived, binance-venue.ts).
   */
  exchangeClientOrderId?: string;
}

export interface OrderUpdatePayload {
  orderId: number;
  status: OrderStatus;
  reason: string;
  exchangeOrderId: string;
}

export interface OrderFillPayload {
  orderId: number;
  quantity: number;
  price: number;
  tradeId: number;
  /** The exchange's fee for this fill, in units of 10^-COMMISSION_DECIMALS of `asset`. */
  commission?: Commission;
}

export interface Commission {
  asset: string;
  amount: number;
}

/** Binance states commissions with at most 8 decimals (baseCommissionPrecision). */
export const COMMISSION_DECIMALS = 8;

// A fill written before commissions were recorded ends after its four u64s; a newer one may
// carry this marker and the commission after them, so both layouts replay.
const COMMISSION_MARKER = 1;
// Likewise an OrderNew written before exchange client order ids were recorded ends after its
// strategy; a newer one may carry this marker and the id.
const EXCHANGE_ID_MARKER = 1;

export interface OrderCancelPayload {
  orderId: number;
  reason: string;
}

/** Trading halted (every new order refused) or resumed, and why. */
export interface TradingHaltPayload {
  halted: boolean;
  reason: string;
}

/**
 * One strategy halted by a guardrail (or resumed): it stays stopped across restarts until a newer
 * version of the strategy asks for a resume (ADR 0020). Values are the decimal strings reported.
 */
export interface StrategyHaltPayload {
  strategy: string;
  halted: boolean;
  /** The strategy version the halt was recorded at, or the version that resumed it. */
  version: number;
  /** The guardrail crossed (maxLoss, maxDrawdown, ...); empty for a resume. */
  guardrail: string;
  /** The value that crossed it and the limit, as the API shows them; empty for a resume. */
  value: string;
  limit: string;
  reason: string;
}

export interface RotationPayload {
  /** Number the segment that this record ends is sealed under. */
  sealedSegment: number;
}

/**
 * Carried by a SequenceJump record: the record it follows is `previous`, and the sequences
 * between `previous` and its own were lost (or held only by files in quarantine/).
 */
export interface SequenceJumpPayload {
  previous: number;
  /** Why, for a person reading the log (`veloz wal inspect`). */
  reason: string;
}

export type OrderRecord =
  | { type: typeof RecordType.OrderNew; data: OrderNewPayload }
  | { type: typeof RecordType.OrderUpdate; data: OrderUpdatePayload }
  | { type: typeof RecordType.OrderFill; data: OrderFillPayload }
  | { type: typeof RecordType.OrderCancel; data: OrderCancelPayload };

const SIDE_CODES: readonly Side[] = ['BUY', 'SELL'];
const TYPE_CODES: readonly OrderType[] = ['LIMIT', 'MARKET'];
const TIF_CODES: readonly TimeInForce[] = ['GTC', 'IOC'];

function code<T>(list: readonly T[], v: T): number {
  const i = list.indexOf(v);
  if (i < 0) throw new RangeError(`cannot encode ${String(v)}`);
  return i;
}

function decodeCode<T>(list: readonly T[], i: number, what: string): T {
  const v = list[i];
  if (v === undefined) throw new PayloadError(`unknown ${what} code ${i}`);
  return v;
}

export function encodeOrderRecord(r: OrderRecord): Buffer {
  const w = new BinaryWriter();
  switch (r.type) {
    case RecordType.OrderNew: {
      const d = r.data;
      w.u64(d.orderId).str(d.clientOrderId).str(d.symbol);
      w.u8(code(SIDE_CODES, d.side)).u8(code(TYPE_CODES, d.type)).u8(code(TIF_CODES, d.timeInForce));
      w.u64(d.price).u64(d.quantity).str(d.strategy);
      if (d.exchangeClientOrderId !== undefined) w.u8(EXCHANGE_ID_MARKER).str(d.exchangeClientOrderId);
      break;
    }
    case RecordType.OrderUpdate:
      w.u64(r.data.orderId)
        .u8(code(ORDER_STATUSES, r.data.status))
        .str(r.data.reason)
        .str(r.data.exchangeOrderId);
      break;
    case RecordType.OrderFill:
      w.u64(r.data.orderId).u64(r.data.quantity).u64(r.data.price).u64(r.data.tradeId);
      if (r.data.commission)
        w.u8(COMMISSION_MARKER).str(r.data.commission.asset).u64(r.data.commission.amount);
      break;
    case RecordType.OrderCancel:
      w.u64(r.data.orderId).str(r.data.reason);
      break;
  }
  return w.done();
}

const EMPTY = Buffer.alloc(0);
const orderReader = new BinaryReader(EMPTY);

type Reused<T extends OrderRecord['type']> = Extract<OrderRecord, { type: T }>;

// What decodeOrderRecordReused() hands out: one object per record type (and one commission),
// with every field present, so that replay allocates nothing per record to decode it.
const reusedCommission: Commission = { asset: '', amount: 0 };
const reusedNew: Reused<typeof RecordType.OrderNew> = {
  type: RecordType.OrderNew,
  data: {
    orderId: 0,
    clientOrderId: '',
    symbol: '',
    side: 'BUY',
    type: 'LIMIT',
    timeInForce: 'GTC',
    price: 0,
    quantity: 0,
    strategy: '',
    exchangeClientOrderId: undefined,
  },
};
const reusedUpdate: Reused<typeof RecordType.OrderUpdate> = {
  type: RecordType.OrderUpdate,
  data: { orderId: 0, status: 'NEW', reason: '', exchangeOrderId: '' },
};
const reusedFill: Reused<typeof RecordType.OrderFill> = {
  type: RecordType.OrderFill,
  data: { orderId: 0, quantity: 0, price: 0, tradeId: 0, commission: undefined },
};
const reusedCancel: Reused<typeof RecordType.OrderCancel> = {
  type: RecordType.OrderCancel,
  data: { orderId: 0, reason: '' },
};

/**
 * The order record of `type` in `payload[start, end)` (the whole buffer by default), decoded into
 * an object that the next call overwrites: read it before decoding another record, keep none of
 * it (replay checks and applies each record, then moves on). decodeOrderRecord() returns a copy.
 */
export function decodeOrderRecordReused(
  type: RecordType,
  payload: Buffer,
  start = 0,
  end = payload.length,
): OrderRecord {
  // Decoding is synchronous and never re-entered: one reader for every record (let go of the
  // bytes after each: they may be a whole segment).
  const rd = orderReader.reset(payload, start, end);
  try {
    return decodeOrder(type, rd);
  } finally {
    orderReader.reset(EMPTY, 0, 0);
  }
}

/** The order record of `type` in `payload[start, end)` (the whole buffer by default), to keep. */
export function decodeOrderRecord(
  type: RecordType,
  payload: Buffer,
  start = 0,
  end = payload.length,
): OrderRecord {
  return owned(decodeOrderRecordReused(type, payload, start, end));
}

/** A copy of a reused record, without the optional fields it does not carry. */
function owned(rec: OrderRecord): OrderRecord {
  switch (rec.type) {
    case RecordType.OrderNew: {
      const { exchangeClientOrderId, ...rest } = rec.data;
      const data: OrderNewPayload = { ...rest };
      if (exchangeClientOrderId !== undefined) data.exchangeClientOrderId = exchangeClientOrderId;
      return { type: rec.type, data };
    }
    case RecordType.OrderFill: {
      const { commission, ...rest } = rec.data;
      const data: OrderFillPayload = { ...rest };
      if (commission !== undefined) data.commission = { asset: commission.asset, amount: commission.amount };
      return { type: rec.type, data };
    }
    case RecordType.OrderUpdate:
      return { type: rec.type, data: { ...rec.data } };
    case RecordType.OrderCancel:
      return { type: rec.type, data: { ...rec.data } };
  }
}

function decodeOrder(type: RecordType, rd: BinaryReader): OrderRecord {
  let rec: OrderRecord;
  switch (type) {
    case RecordType.OrderNew: {
      const data = reusedNew.data;
      data.orderId = rd.u64();
      data.clientOrderId = rd.str();
      data.symbol = rd.name();
      data.side = decodeCode(SIDE_CODES, rd.u8(), 'side');
      data.type = decodeCode(TYPE_CODES, rd.u8(), 'order type');
      data.timeInForce = decodeCode(TIF_CODES, rd.u8(), 'time in force');
      data.price = rd.u64();
      data.quantity = rd.u64();
      data.strategy = rd.name();
      data.exchangeClientOrderId = undefined;
      if (rd.remaining() > 0) {
        if (rd.u8() !== EXCHANGE_ID_MARKER) throw new PayloadError('payload has trailing bytes');
        data.exchangeClientOrderId = rd.str();
      }
      rec = reusedNew;
      break;
    }
    case RecordType.OrderUpdate: {
      const data = reusedUpdate.data;
      data.orderId = rd.u64();
      data.status = decodeCode(ORDER_STATUSES, rd.u8(), 'status');
      data.reason = rd.str();
      data.exchangeOrderId = rd.str();
      rec = reusedUpdate;
      break;
    }
    case RecordType.OrderFill: {
      const data = reusedFill.data;
      data.orderId = rd.u64();
      data.quantity = rd.u64();
      data.price = rd.u64();
      data.tradeId = rd.u64();
      data.commission = undefined;
      if (rd.remaining() > 0) {
        if (rd.u8() !== COMMISSION_MARKER) throw new PayloadError('payload has trailing bytes');
        reusedCommission.asset = rd.name();
        reusedCommission.amount = rd.u64();
        data.commission = reusedCommission;
      }
      rec = reusedFill;
      break;
    }
    case RecordType.OrderCancel: {
      const data = reusedCancel.data;
      data.orderId = rd.u64();
      data.reason = rd.str();
      rec = reusedCancel;
      break;
    }
    default:
      throw new PayloadError(`record type ${type} is not an order record`);
  }
  rd.end();
  return rec;
}

export function encodeTradingHalt(p: TradingHaltPayload): Buffer {
  return new BinaryWriter()
    .u8(p.halted ? 1 : 0)
    .str(p.reason)
    .done();
}

export function decodeTradingHalt(payload: Buffer): TradingHaltPayload {
  const rd = new BinaryReader(payload);
  const flag = rd.u8();
  if (flag > 1) throw new PayloadError(`halted flag ${flag} is neither 0 nor 1`);
  const reason = rd.str();
  rd.end();
  return { halted: flag === 1, reason };
}

export function encodeStrategyHalt(p: StrategyHaltPayload): Buffer {
  return new BinaryWriter()
    .str(p.strategy)
    .u8(p.halted ? 1 : 0)
    .u64(p.version)
    .str(p.guardrail)
    .str(p.value)
    .str(p.limit)
    .str(p.reason)
    .done();
}

export function decodeStrategyHalt(payload: Buffer): StrategyHaltPayload {
  const rd = new BinaryReader(payload);
  const strategy = rd.str();
  const flag = rd.u8();
  if (flag > 1) throw new PayloadError(`halted flag ${flag} is neither 0 nor 1`);
  const version = rd.u64();
  const guardrail = rd.str();
  const value = rd.str();
  const limit = rd.str();
  const reason = rd.str();
  rd.end();
  return { strategy, halted: flag === 1, version, guardrail, value, limit, reason };
}

export function encodeRotation(p: RotationPayload): Buffer {
  return new BinaryWriter(8).u64(p.sealedSegment).done();
}

export function decodeRotation(payload: Buffer): RotationPayload {
  const rd = new BinaryReader(payload);
  const sealedSegment = rd.u64();
  rd.end();
  return { sealedSegment };
}

export function encodeSequenceJump(p: SequenceJumpPayload): Buffer {
  return new BinaryWriter().u64(p.previous).str(p.reason).done();
}

export function decodeSequenceJump(payload: Buffer): SequenceJumpPayload {
  const rd = new BinaryReader(payload);
  const previous = rd.u64();
  const reason = rd.str();
  rd.end();
  return { previous, reason };
}
