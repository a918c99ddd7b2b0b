// Turns an API order request (decimal strings) into integers for the engine, or says which
// field is wrong and why.
import { CLIENT_ORDER_ID_PREFIX } from '@veloz/api/client-order-id';
import { DecimalError, parseScaledInt } from '../domain/decimal.ts';
import type { Instrument } from '../domain/instrument.ts';
import type { OrderType, Side, TimeInForce } from '../domain/order.ts';

export class InputError extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

export interface PlaceOrderRequest {
  symbol: string;
  side: Side;
  type: OrderType;
  quantity: string;
  price?: string | undefined;
  timeInForce?: TimeInForce | undefined;
  clientOrderId?: string | undefined;
}

export interface ParsedOrder {
  instrument: Instrument;
  side: Side;
  type: OrderType;
  timeInForce: TimeInForce;
  quantity: number;
  price: number;
  clientOrderId: string | undefined;
}

export const CLIENT_ORDER_ID = /^[.A-Za-z0-9:/_-]{1,36}$/;
/** Engine-generated client order ids use this prefix, so API callers may not. */
export const GENERATED_ID_PREFIX = 'veloz-';
/** Prefixes API callers may not use: the engine's own, and the exchange ids of orders it adopts. */
const RESERVED_PREFIXES = [GENERATED_ID_PREFIX, CLIENT_ORDER_ID_PREFIX];

function scaled(text: string, decimals: number, field: string): number {
  try {
    return parseScaledInt(text, decimals);
  } catch (err) {
    if (err instanceof DecimalError) throw new InputError(field, `${field}: ${err.message}`);
    throw err;
  }
}

export function parseOrderRequest(
  req: PlaceOrderRequest,
  instruments: ReadonlyMap<string, Instrument>,
): ParsedOrder {
  const inst = instruments.get(req.symbol);
  if (!inst) {
    throw new InputError(
      'symbol',
      `unknown symbol ${req.symbol}; this engine trades ${[...instruments.keys()].join(', ')}`,
    );
  }
  const quantity = scaled(req.quantity, inst.qtyDecimals, 'quantity');
  if (quantity <= 0) throw new InputError('quantity', 'quantity must be greater than zero');
  if (quantity % inst.stepSize !== 0)
    throw new InputError('quantity', 'quantity is not a multiple of the step size');
  if (quantity < inst.minQty) throw new InputError('quantity', 'quantity is below the minimum');
  let price = 0;
  let timeInForce: TimeInForce;
  if (req.type === 'LIMIT') {
    if (req.price === undefined) throw new InputError('price', 'price is required for LIMIT orders');
    price = scaled(req.price, inst.priceDecimals, 'price');
    if (price <= 0) throw new InputError('price', 'price must be greater than zero');
    if (price % inst.tickSize !== 0)
      throw new InputError('price', 'price is not a multiple of the tick size');
    timeInForce = req.timeInForce ?? 'GTC';
  } else {
    if (req.price !== undefined) throw new InputError('price', 'price is not allowed for MARKET orders');
    if (req.timeInForce !== undefined && req.timeInForce !== 'IOC') {
      throw new InputError('timeInForce', 'MARKET orders are immediate-or-cancel; omit timeInForce');
    }
    timeInForce = 'IOC';
  }
  if (req.clientOrderId !== undefined) {
    if (!CLIENT_ORDER_ID.test(req.clientOrderId)) {
      throw new InputError('clientOrderId', 'clientOrderId must be 1-36 characters of A-Z a-z 0-9 . : / _ -');
    }
    // Case-insensitively: `VELOZ-1` next to `veloz-1` would confuse every reader of the history.
    const reserved = RESERVED_PREFIXES.find((p) => req.clientOrderId!.toLowerCase().startsWith(p));
    if (reserved !== undefined) {
      throw new InputError('clientOrderId', `the prefix "${reserved}" is reserved for engine-generated ids`);
    }
  }
  return {
    instrument: inst,
    side: req.side,
    type: req.type,
    timeInForce,
    quantity,
    price,
    clientOrderId: req.clientOrderId,
  };
}
