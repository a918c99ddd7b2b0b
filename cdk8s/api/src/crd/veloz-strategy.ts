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
    conditions: conditions(['Accepted', 'Running', 'Degraded']),
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
