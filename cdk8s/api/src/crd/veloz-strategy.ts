// The VelozStrategy API (DESIGN §3): a strategy the operator pushes into the engines of one
// VelozDeployment. Parameters mirror the engine's strategies (docs/engine.md).
import { SYMBOL_MESSAGE, SYMBOL_RULE } from './veloz-deployment.ts';
import { bool, conditions, decimal, int, list, named, obj, objectName, str } from './schema.ts';
import type { Validation } from './schema.ts';

export const STRATEGY_PARAMS = {
  grid: { allowed: ['levels', 'spacing', 'quantity', 'center'], required: ['spacing', 'quantity'] },
  market_maker: {
    allowed: ['spread', 'quantity', 'maxInventory', 'requoteThreshold'],
    required: ['spread', 'quantity'],
  },
  momentum: {
    allowed: ['lookback', 'threshold', 'quantity', 'maxPosition'],
    required: ['threshold', 'quantity'],
  },
} as const;

const ALL_PARAMS = [...new Set(Object.values(STRATEGY_PARAMS).flatMap((p) => p.allowed))];

// CEL on a typed object cannot iterate its keys, so each type lists what it needs and forbids.
function paramsRule(type: keyof typeof STRATEGY_PARAMS): Validation {
  const { allowed, required } = STRATEGY_PARAMS[type];
  const forbidden = ALL_PARAMS.filter((p) => !(allowed as readonly string[]).includes(p));
  const checks = [
    ...required.map((p) => `has(self.params.${p})`),
    ...forbidden.map((p) => `!has(self.params.${p})`),
  ];
  return {
    rule: `self.type != '${type}' || (${checks.join(' && ')})`,
    message: `a ${type} strategy takes params ${allowed.join(', ')} (${required.join(' and ')} required)`,
    fieldPath: '.params',
  };
}

// CEL evaluates `&&` left to right past errors, so a window that is not a duration fails the
// pattern and never reaches duration(), whose error would hide the message.
const DURATION_RULE =
  "self.matches('^([0-9]+(h|m|s))+$') && duration(self) >= duration('1s') && duration(self) <= duration('24h')";
const positiveMoney = (name: string, d: string) =>
  decimal(d, {
    'x-kubernetes-validations': [
      { rule: "self.matches('[1-9]')", message: `guardrails.${name} must be greater than zero` },
    ],
  });
const positiveInt = (name: string, d: string, maximum: number) =>
  int(d, {
    minimum: 1,
    maximum,
    'x-kubernetes-validations': [
      { rule: `self >= 1 && self <= ${maximum}`, message: `guardrails.${name} must be from 1 to ${maximum}` },
    ],
  });

export const strategyGuardrails = named(
  'StrategyGuardrails',
  obj(
    'Limits whose crossing halts the strategy on that engine: it stops, its open orders are cancelled, and the halt is written to the WAL so that it holds across restarts until spec.resumeAfter lifts it (condition Halted; ADR 0020).',
    {
      maxLoss: positiveMoney(
        'maxLoss',
        'Halt when the strategy’s PnL on an engine (realized + unrealized) reaches minus this, in the quote currency (decimal string).',
      ),
      maxDrawdown: positiveMoney(
        'maxDrawdown',
        'Halt when the PnL falls this far from its peak since the strategy last (re)started on the engine, in the quote currency (decimal string).',
      ),
      maxRejectRatio: named(
        'RejectRatioGuardrail',
        obj(
          'Halt when more than `ratio` of the orders the strategy tried within `window` were rejected (by risk checks or the venue).',
          {
            ratio: {
              type: 'number',
              description: 'Largest share of rejected orders, from 0 to 1.',
              minimum: 0,
              maximum: 1,
              'x-kubernetes-validations': [
                {
                  rule: 'self >= 0.0 && self <= 1.0',
                  message: 'guardrails.maxRejectRatio.ratio must be from 0 to 1',
                },
              ],
            },
            window: str('How far back orders count: a duration such as 30s, 5m or 1h (1s to 24h).', {
              maxLength: 16,
              'x-kubernetes-validations': [
                {
                  rule: DURATION_RULE,
                  message: 'guardrails.maxRejectRatio.window must be a duration from 1s to 24h, such as 5m',
                },
              ],
            }),
            minOrders: positiveInt(
              'maxRejectRatio.minOrders',
              'Orders tried within the window before the ratio counts (default 10).',
              100000,
            ),
          },
          { required: ['ratio', 'window'] },
        ),
      ),
      maxOrdersPerMinute: positiveInt(
        'maxOrdersPerMinute',
        'Halt instead of placing an order past this many within a minute.',
        1000000,
      ),
      staleMarketDataSeconds: positiveInt(
        'staleMarketDataSeconds',
        'Halt after this many seconds without market data for the symbol.',
        86400,
      ),
    },
  ),
);

const price = (d: string) => decimal(`${d} (price, decimal string; a multiple of the tick size).`);
const qty = (d: string) => decimal(`${d} (base units, decimal string; a multiple of the step size).`);

export const velozStrategySpec = named(
  'VelozStrategySpec',
  obj(
    'A trading strategy run by the engines of one VelozDeployment.',
    {
      deploymentRef: named(
        'DeploymentRef',
        obj(
          'The VelozDeployment (same namespace) whose engines run the strategy. Immutable.',
          { name: objectName('Name of the VelozDeployment.') },
          {
            required: ['name'],
            'x-kubernetes-validations': [
              {
                rule: 'self == oldSelf',
                message: 'deploymentRef is immutable: create a new VelozStrategy to run it elsewhere',
              },
            ],
          },
        ),
      ),
      type: str('Strategy kind implemented by the engine.', { enum: Object.keys(STRATEGY_PARAMS) }),
      symbol: str(`Symbol traded; ${SYMBOL_MESSAGE}. It must be one of the deployment's market.symbols.`, {
        maxLength: 20,
        'x-kubernetes-validations': [{ rule: SYMBOL_RULE, message: `symbol ${SYMBOL_MESSAGE}` }],
      }),
      params: named(
        'StrategyParams',
        obj(
          'Parameters of the strategy type: grid {levels, spacing, quantity, center}; market_maker {spread, quantity, maxInventory, requoteThreshold}; momentum {lookback, threshold, quantity, maxPosition}.',
          {
            levels: int('grid: price levels on each side of the center (default 5).', {
              minimum: 1,
              maximum: 100,
            }),
            spacing: price('grid: distance between levels'),
            center: price('grid: center price (default: the first mid price seen)'),
            quantity: qty('Quantity of each order'),
            spread: price('market_maker: distance between bid and ask quotes'),
            maxInventory: qty(
              'market_maker: largest inventory before quoting one side only (default 10 x quantity)',
            ),
            requoteThreshold: price('market_maker: mid move that triggers new quotes (default spread / 4)'),
            lookback: int('momentum: quotes in the look-back window (default 20).', {
              minimum: 2,
              maximum: 10000,
            }),
            threshold: price('momentum: price move over the window that triggers an order'),
            maxPosition: qty('momentum: largest position the strategy builds (default 5 x quantity)'),
          },
          { default: {} },
        ),
      ),
      pairs: list(
        'Pair indexes whose engines run the strategy; every pair when absent or empty.',
        int('A pair index.', { minimum: 0, maximum: 63 }),
        { maxItems: 64, 'x-kubernetes-list-type': 'set' },
      ),
      risk: named(
        'StrategyRisk',
        obj('Limits of this strategy, on top of the deployment risk limits.', {
          maxPosition: decimal('Largest absolute position of the strategy, in base units (decimal string).'),
          maxOrderQuantity: decimal('Largest quantity of one order of the strategy (decimal string).'),
          maxOrdersPerSecond: int('New orders per second the strategy may place.', {
            minimum: 1,
            maximum: 100000,
          }),
        }),
      ),
      enabled: bool('false pauses the strategy and cancels its open orders.', { default: true }),
      guardrails: strategyGuardrails,
      resumeAfter: str(
        'Lifts a guardrail halt recorded at or before this time (RFC 3339), on every engine: set it to now to resume a halted strategy. A halt after it holds; nothing else resumes one.',
        // No CEL rule: the API server types a date-time string as a CEL timestamp, and the
        // format alone refuses what is not one.
        { format: 'date-time', maxLength: 64 },
      ),
    },
    {
      required: ['deploymentRef', 'type', 'symbol'],
      'x-kubernetes-validations': [paramsRule('grid'), paramsRule('market_maker'), paramsRule('momentum')],
    },
  ),
);

export const velozStrategyStatus = named(
  'VelozStrategyStatus',
  obj('Observed state, written by the operator.', {
    observedGeneration: int('The .metadata.generation this status describes.', {
      minimum: 0,
      format: 'int64',
    }),
    conditions: conditions(['Accepted', 'Running', 'Halted', 'Degraded']),
    engines: list(
      'State of the strategy in each targeted engine.',
      named(
        'StrategyEngineStatus',
        obj(
          'The strategy in one engine.',
          {
            pair: int('Pair index.', { minimum: 0, maximum: 63 }),
            state: str('Strategy state reported by the engine (e.g. running, paused, error).', {
              maxLength: 64,
            }),
            position: str('Net position (decimal string).', { maxLength: 64 }),
            realizedPnl: str('Realized PnL in quote units (decimal string).', { maxLength: 64 }),
            unrealizedPnl: str('Unrealized PnL in quote units (decimal string).', { maxLength: 64 }),
            ordersPlaced: int('Orders placed.', { minimum: 0, format: 'int64' }),
            lastError: str('Last error, if any.', { maxLength: 4096 }),
            halt: named(
              'StrategyHaltStatus',
              obj('The guardrail halt holding the strategy on this engine; absent when none.', {
                guardrail: str('The guardrail crossed.', { maxLength: 64 }),
                value: str('The value that crossed it.', { maxLength: 64 }),
                limit: str('The limit.', { maxLength: 64 }),
                reason: str('What happened.', { maxLength: 1024 }),
                time: str('When it was recorded.', { format: 'date-time' }),
              }),
            ),
          },
          { required: ['pair'] },
        ),
      ),
      { maxItems: 64, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['pair'] },
    ),
    runningEngines: int('Engines where the strategy is running.', { minimum: 0 }),
    position: str('Net position over all engines (decimal string).', { maxLength: 64 }),
    realizedPnl: str('Realized PnL over all engines (decimal string).', { maxLength: 64 }),
    unrealizedPnl: str('Unrealized PnL over all engines (decimal string).', { maxLength: 64 }),
    ordersPlaced: int('Orders placed over all engines.', { minimum: 0, format: 'int64' }),
  }),
);
