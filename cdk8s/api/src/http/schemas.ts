// JSON schemas of the engine's HTTP API: the requests it accepts and the answers it gives. The
// routes that use them are in contract.ts. An answer's schema lists every property the engine
// sends and says `additionalProperties: false`, which is true by construction: fastify serializes
// an answer through its schema and drops anything the schema does not name.
import type { FromSchema } from 'json-schema-to-ts';
import { ORDER_STATUSES, STRATEGY_TYPES } from '../enums.ts';

const decimal = { type: 'string', pattern: '^\\d{1,20}(\\.\\d{1,18})?$' } as const;
/**
 * A decimal a client sends: a string, never a JSON number (a number such as 0.0100000000000000001
 * has already lost digits when it is parsed, so the engine could not tell what was meant).
 */
const decimalInput = {
  ...decimal,
  description: 'a decimal string such as "0.010"; a JSON number is refused',
} as const;
const signedDecimal = { type: 'string', pattern: '^-?\\d{1,40}(\\.\\d{1,36})?$' } as const;
const symbol = { type: 'string', pattern: '^[A-Z0-9]{2,20}$' } as const;
const count = { type: 'integer', minimum: 0 } as const;
const epochMs = { type: 'integer', minimum: 0, description: 'milliseconds since the Unix epoch' } as const;

/** Every error answer: what went wrong, the request field at fault, or the engine's typed reason. */
export const errorSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: { type: 'string', description: 'what went wrong, for a person' },
    field: { type: 'string', description: 'the request field at fault (400)' },
    reason: {
      type: 'string',
      description: 'a typed reason: the risk check that rejected an order (422, 429), or the gateway’s own',
    },
  },
} as const;

export const placeOrderBody = {
  type: 'object',
  additionalProperties: false,
  required: ['symbol', 'side', 'type', 'quantity'],
  properties: {
    symbol,
    side: { type: 'string', enum: ['BUY', 'SELL'] },
    type: { type: 'string', enum: ['LIMIT', 'MARKET'] },
    quantity: decimalInput,
    price: decimalInput,
    timeInForce: { type: 'string', enum: ['GTC', 'IOC'] },
    clientOrderId: {
      type: 'string',
      minLength: 1,
      maxLength: 36,
      // The engine's own ids start with `veloz-`: refused in any case, so none can pass for one.
      pattern: '^(?![vV][eE][lL][oO][zZ]-)[.A-Za-z0-9:/_-]+$',
      description:
        'your id for the order: 1-36 of A-Z a-z 0-9 . : / _ -, not starting with `veloz-` in any case; idempotent for VELOZ_IDEMPOTENCY_WINDOW',
    },
  },
  examples: [
    {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '0.010',
      price: '50000.00',
      clientOrderId: 'a-1',
    },
    { symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: '0.001' },
  ],
} as const;

export const orderSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'orderId',
    'clientOrderId',
    'symbol',
    'side',
    'type',
    'timeInForce',
    'status',
    'quantity',
    'price',
    'filledQuantity',
    'avgPrice',
    'strategy',
    'reason',
    'exchangeOrderId',
    'createdAt',
    'updatedAt',
    'lastSequence',
  ],
  properties: {
    orderId: { type: 'integer', minimum: 1 },
    clientOrderId: { type: 'string' },
    symbol: { type: 'string' },
    side: { type: 'string', enum: ['BUY', 'SELL'] },
    type: { type: 'string', enum: ['LIMIT', 'MARKET'] },
    timeInForce: { type: 'string', enum: ['GTC', 'IOC'] },
    status: { type: 'string', enum: ORDER_STATUSES },
    quantity: decimal,
    price: { ...decimal, description: '0 for a MARKET order' },
    filledQuantity: decimal,
    avgPrice: decimal,
    strategy: {
      type: 'string',
      description: 'the strategy that placed it; empty when placed through the API',
    },
    reason: { type: 'string', description: 'why it was rejected, canceled or expired' },
    exchangeOrderId: { type: 'string' },
    exchangeClientOrderId: {
      type: 'string',
      description:
        'its client order id on the exchange: vz-<desk>-<pair>-<strategy tag>-… names the desk, pair and strategy (ADR 0018)',
    },
    createdAt: epochMs,
    updatedAt: epochMs,
    lastSequence: { ...count, description: 'the WAL sequence of its last change' },
  },
} as const;

// Written as digits only: a path segment `1e3` or `0x10` is refused rather than read as a number.
// At most 15 digits, so every id is a safe integer.
const orderIdText = { type: 'string', pattern: '^[1-9][0-9]{0,14}$' } as const;

export const orderIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { ...orderIdText, description: 'the orderId: a positive integer in decimal digits' } },
} as const;

export const clientOrderIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['clientOrderId'],
  properties: { clientOrderId: { type: 'string', pattern: '^[.A-Za-z0-9:/_-]{1,36}$' } },
} as const;

export const ordersStateQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: {
      type: 'string',
      enum: ['open', 'all'],
      description: 'open: only orders that can still fill; all (the default): every order',
    },
    limit: {
      type: 'integer',
      minimum: 1,
      maximum: 10000,
      description: 'at most this many orders, by orderId; without it every order in one answer',
    },
    cursor: {
      ...orderIdText,
      description: 'the `next` of the previous page: orders with a greater orderId',
    },
  },
} as const;

export const ordersStateResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['orders', 'lastSequence', 'next'],
  properties: {
    orders: { type: 'array', items: orderSchema },
    lastSequence: { ...count, description: 'the WAL sequence this state is as of' },
    next: {
      type: ['string', 'null'],
      description: 'the `cursor` of the next page; null on the last page',
    },
  },
} as const;

export const positionSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'symbol',
    'strategy',
    'quantity',
    'avgEntryPrice',
    'markPrice',
    'realizedPnl',
    'unrealizedPnl',
    'boughtQuantity',
    'soldQuantity',
  ],
  properties: {
    symbol: { type: 'string' },
    strategy: {
      type: 'string',
      description: 'the strategy holding it; empty for orders placed through the API',
    },
    quantity: { ...signedDecimal, description: 'net position: negative when short' },
    avgEntryPrice: decimal,
    markPrice: decimal,
    realizedPnl: signedDecimal,
    unrealizedPnl: signedDecimal,
    boughtQuantity: decimal,
    soldQuantity: decimal,
  },
} as const;

export const positionsResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['positions'],
  properties: { positions: { type: 'array', items: positionSchema } },
} as const;

export const strategyNameParams = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$' } },
} as const;

const strategyRisk = {
  type: 'object',
  additionalProperties: false,
  properties: {
    maxPosition: decimal,
    maxOrderQuantity: decimal,
    maxOrdersPerSecond: { type: 'integer', minimum: 1, maximum: 100000 },
  },
} as const;

const strategyGuardrails = {
  type: 'object',
  additionalProperties: false,
  description: 'limits whose crossing halts the strategy until a resume (ADR 0020)',
  properties: {
    maxLoss: {
      ...decimal,
      description: 'halts when realized + unrealized PnL reaches minus this, in the quote currency',
    },
    maxDrawdown: {
      ...decimal,
      description:
        'halts when PnL falls this far from its peak since the strategy (re)started, in the quote currency',
    },
    maxRejectRatio: {
      type: 'object',
      additionalProperties: false,
      required: ['ratio', 'windowSeconds'],
      description: 'halts when more than `ratio` of the orders tried in the window were rejected',
      properties: {
        ratio: { type: 'number', minimum: 0, maximum: 1 },
        windowSeconds: { type: 'integer', minimum: 1, maximum: 86400 },
        minOrders: {
          type: 'integer',
          minimum: 1,
          maximum: 100000,
          description: 'orders tried in the window before the ratio counts (default 10)',
        },
      },
    },
    maxOrdersPerMinute: {
      type: 'integer',
      minimum: 1,
      maximum: 1000000,
      description: 'halts instead of placing one order more than this within a minute',
    },
    staleMarketDataSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 86400,
      description: 'halts after this long without market data for its symbol',
    },
  },
} as const;

const strategyHalt = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['guardrail', 'value', 'limit', 'reason', 'version', 'at'],
  description: 'the guardrail halt holding the strategy; null when none',
  properties: {
    guardrail: {
      type: 'string',
      enum: ['maxLoss', 'maxDrawdown', 'maxRejectRatio', 'maxOrdersPerMinute', 'staleMarketDataSeconds'],
    },
    value: { type: 'string', description: 'the value that crossed it' },
    limit: { type: 'string' },
    reason: { type: 'string' },
    version: { ...count, description: 'the strategy version it was halted at' },
    at: { ...count, description: 'milliseconds since the Unix epoch' },
  },
} as const;

export const strategyBody = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'symbol', 'version'],
  properties: {
    type: { type: 'string', enum: STRATEGY_TYPES },
    symbol,
    params: { type: 'object', description: 'the parameters of the strategy type (docs/engine.md)' },
    version: {
      type: 'integer',
      minimum: 0,
      description: 'a PUT of the same version and spec changes nothing; an older version is refused',
    },
    enabled: { type: 'boolean', default: true },
    risk: strategyRisk,
    guardrails: strategyGuardrails,
    resumeAfter: {
      ...count,
      description:
        'milliseconds since the Unix epoch: a guardrail halt recorded at or before it, at an older version, is lifted',
    },
  },
  examples: [
    {
      type: 'grid',
      symbol: 'BTCUSDT',
      version: 1,
      params: { levels: 2, spacing: '10.00', quantity: '0.001' },
      risk: { maxPosition: '0.01' },
    },
  ],
} as const;

export const strategySchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'name',
    'type',
    'symbol',
    'version',
    'enabled',
    'state',
    'params',
    'risk',
    'guardrails',
    'halt',
    'position',
    'realizedPnl',
    'unrealizedPnl',
    'ordersPlaced',
    'openOrders',
    'errors',
    'lastError',
    'lastErrorAt',
  ],
  properties: {
    name: { type: 'string' },
    type: { type: 'string', enum: STRATEGY_TYPES },
    symbol: { type: 'string' },
    version: count,
    enabled: { type: 'boolean' },
    state: { type: 'string', enum: ['running', 'paused', 'halted'] },
    params: { type: 'object', additionalProperties: true },
    risk: strategyRisk,
    guardrails: strategyGuardrails,
    halt: strategyHalt,
    position: signedDecimal,
    realizedPnl: signedDecimal,
    unrealizedPnl: signedDecimal,
    ordersPlaced: count,
    openOrders: count,
    errors: count,
    lastError: { type: 'string', description: 'empty when there was none' },
    lastErrorAt: { type: ['integer', 'null'], minimum: 0, description: 'milliseconds since the Unix epoch' },
  },
} as const;

export const strategiesResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['strategies'],
  properties: { strategies: { type: 'array', items: strategySchema } },
} as const;

export const haltBody = {
  type: 'object',
  additionalProperties: false,
  properties: { reason: { type: 'string', maxLength: 200 } },
} as const;

export const haltResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['halted', 'reason'],
  properties: {
    halted: { type: 'boolean' },
    reason: { type: 'string', description: 'why trading is halted; empty when it is not' },
  },
} as const;

export const RECONCILIATION_KINDS = [
  'fill',
  'status',
  'adopted',
  'resolved',
  'unresolved',
  'not_adoptable',
  'terminal_mismatch',
  'balance',
] as const;

const reconciliationDifference = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'symbol', 'orderId', 'exchangeClientOrderId', 'message'],
  properties: {
    kind: {
      type: 'string',
      enum: RECONCILIATION_KINDS,
      description:
        'fill: a fill the WAL lacked; status: a status the WAL lacked; adopted: an open order of this desk that the WAL lacked; resolved: an order the WAL held open that the exchange no longer lists; unresolved: such an order the exchange cannot account for; not_adoptable: an order of this desk the engine cannot take over; terminal_mismatch: the exchange executed more of a finished order than the WAL holds, or holds it open; balance: the exchange holds less of an asset than the WAL’s position',
    },
    symbol,
    orderId: { ...count, description: 'the engine’s order id; 0 when the WAL has no such order' },
    exchangeClientOrderId: {
      type: 'string',
      description: 'the client order id on the exchange; empty for balances',
    },
    message: { type: 'string' },
  },
} as const;

export const reconciliationResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['enabled', 'intervalMs', 'runs', 'lastRun', 'inSync', 'halted', 'found', 'repaired', 'open'],
  properties: {
    enabled: { type: 'boolean', description: 'false when the engine trades on its simulated market' },
    intervalMs: { ...count, description: 'VELOZ_RECONCILE_INTERVAL' },
    runs: { ...count, description: 'runs finished since start' },
    lastRun: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['startedAt', 'finishedAt', 'ok', 'error'],
      properties: {
        startedAt: epochMs,
        finishedAt: epochMs,
        ok: { type: 'boolean', description: 'false when the exchange could not be asked' },
        error: { type: 'string', description: 'why the run did not finish; empty when it did' },
      },
    },
    inSync: {
      type: 'boolean',
      description: 'the last run finished and no difference is open (true when not enabled)',
    },
    halted: { type: 'boolean', description: 'new orders are halted because of an open difference' },
    found: { type: 'array', items: reconciliationDifference, description: 'differences the last run found' },
    repaired: { type: 'array', items: reconciliationDifference, description: 'those the last run repaired' },
    open: {
      type: 'array',
      items: reconciliationDifference,
      description: 'differences that could not be repaired; they stay until trading is resumed',
    },
  },
} as const;

export const walStatusResponse = {
  type: 'object',
  additionalProperties: false,
  required: [
    'identity',
    'dir',
    'lastSequence',
    'durableSequence',
    'sync',
    'maxSizeBytes',
    'maxFiles',
    'checkpointInterval',
    'recovery',
    'lastCheckpoint',
    'healthy',
    'error',
  ],
  properties: {
    identity: {
      type: 'object',
      additionalProperties: false,
      required: ['deployment', 'pair', 'walId'],
      description:
        'which engine this is: `veloz backup` and `veloz restore` compare it with the deployment and pair they are given and with earlier backups',
      properties: {
        deployment: { type: 'string' },
        pair: count,
        walId: {
          type: 'string',
          description: 'made once with the WAL (wal.json); a restore carries it over',
        },
      },
    },
    dir: { type: 'string' },
    lastSequence: { ...count, description: 'the last sequence written' },
    durableSequence: { ...count, description: 'the last sequence on disk (fdatasync-ed when sync is on)' },
    sync: { type: 'boolean' },
    maxSizeBytes: count,
    maxFiles: count,
    checkpointInterval: count,
    recovery: {
      type: 'object',
      additionalProperties: false,
      required: [
        'mode',
        'replayedEntries',
        'replaySeconds',
        'corruptRecords',
        'tornTailBytes',
        'actions',
        'sequenceJump',
      ],
      properties: {
        mode: { type: 'string', enum: ['strict', 'truncate_at_corruption'] },
        replayedEntries: count,
        replaySeconds: { type: 'number', minimum: 0 },
        corruptRecords: count,
        tornTailBytes: count,
        actions: { type: 'array', items: { type: 'string' }, description: 'what recovery repaired or moved' },
        sequenceJump: {
          type: ['object', 'null'],
          additionalProperties: false,
          required: ['after', 'continuesAt', 'lost'],
          properties: {
            after: { ...count, description: 'the last record kept' },
            continuesAt: {
              ...count,
              description: 'the sequence of the jump record; the log goes on from it',
            },
            lost: {
              ...count,
              description: 'sequence numbers skipped (lost or in quarantine/), never written again',
            },
          },
          description:
            'the sequence jump this start declared after truncate_at_corruption accepted a loss (docs/adr/0012-wal-high-water-mark.md); null when it declared none',
        },
      },
    },
    lastCheckpoint: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['sequence', 'time'],
      properties: { sequence: count, time: { type: 'string', format: 'date-time' } },
      description: 'the newest checkpoint written or replayed; null before the first',
    },
    healthy: { type: 'boolean' },
    error: { type: ['string', 'null'], description: 'why the WAL stopped taking writes' },
  },
} as const;

export const checkpointResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['sequence'],
  properties: { sequence: { ...count, description: 'the sequence of the checkpoint, now durable' } },
} as const;

export const walBackupQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    have: {
      type: 'string',
      maxLength: 12_000,
      pattern: '^[0-9a-f.:,]*$',
      description: 'segment prefixes the caller already stores: FIRSTSEQ.CRC:LENGTH, comma-separated',
    },
    checkpoint: { type: 'boolean', default: false, description: 'write a checkpoint first' },
  },
} as const;

export const streamQuery = {
  type: 'object',
  properties: {
    lastEventId: { type: 'string', description: 'resume after this event id (as the Last-Event-ID header)' },
  },
} as const;

export const streamHeaders = {
  type: 'object',
  properties: { 'last-event-id': { type: 'string', description: 'resume after this event id' } },
} as const;

export const healthResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'preset', 'executionMode', 'marketSource'],
  properties: {
    status: { type: 'string', const: 'ok' },
    preset: { type: 'string', description: 'VELOZ_PRESET' },
    executionMode: { type: 'string', description: 'VELOZ_EXECUTION_MODE' },
    marketSource: { type: 'string', description: 'VELOZ_MARKET_SOURCE' },
  },
} as const;

export const readinessResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['ready', 'reasons'],
  properties: {
    ready: { type: 'boolean' },
    reasons: { type: 'array', items: { type: 'string' }, description: 'why it is not ready' },
  },
} as const;

export const textBody = { type: 'string' } as const;

export const openApiResponse = {
  type: 'object',
  required: ['openapi', 'info', 'paths'],
  properties: {
    openapi: { type: 'string', pattern: '^3\\.1\\.\\d+$' },
    info: { type: 'object' },
    paths: { type: 'object' },
  },
} as const;

export type ErrorBody = FromSchema<typeof errorSchema>;
export type PlaceOrderBody = FromSchema<typeof placeOrderBody>;
export type Order = FromSchema<typeof orderSchema>;
export type OrdersState = FromSchema<typeof ordersStateResponse>;
export type Position = FromSchema<typeof positionSchema>;
export type StrategyBody = FromSchema<typeof strategyBody, { keepDefaultedPropertiesOptional: true }>;
export type Strategy = FromSchema<typeof strategySchema>;
export type Halt = FromSchema<typeof haltResponse>;
export type WalStatus = FromSchema<typeof walStatusResponse>;
export type Reconciliation = FromSchema<typeof reconciliationResponse>;
export type ReconciliationDifference = Reconciliation['open'][number];
export type Health = FromSchema<typeof healthResponse>;
export type Readiness = FromSchema<typeof readinessResponse>;

/** Schemas by the name the OpenAPI documents give them (components.schemas), for client generators. */
export const NAMED_SCHEMAS = {
  Error: errorSchema,
  PlaceOrder: placeOrderBody,
  Order: orderSchema,
  OrdersState: ordersStateResponse,
  Position: positionSchema,
  Positions: positionsResponse,
  StrategySpec: strategyBody,
  Strategy: strategySchema,
  Strategies: strategiesResponse,
  Halt: haltResponse,
  WalStatus: walStatusResponse,
  Reconciliation: reconciliationResponse,
  Checkpoint: checkpointResponse,
  Health: healthResponse,
  Readiness: readinessResponse,
} as const;
