import { describe, expect, it } from 'vitest';
import { PLAIN } from './output.ts';
import { strategiesText, type StrategyView } from './strategies.ts';

const view = (conditions: StrategyView['conditions']): StrategyView => ({
  name: 'grid',
  deployment: 'desk',
  type: 'grid',
  symbol: 'BTCUSDT',
  enabled: true,
  runningEngines: 1,
  position: '0',
  realizedPnl: '0',
  unrealizedPnl: '0',
  ordersPlaced: 0,
  conditions,
  engines: [],
});

describe('strategiesText', () => {
  it('names only the conditions that are bad news: Halted and Degraded when True, the others when not', () => {
    const calm = strategiesText(
      [
        view([
          { type: 'Running', status: 'True', reason: 'AllEnginesRunning', message: '1/1' },
          { type: 'Halted', status: 'False', reason: 'NotHalted', message: 'no guardrail crossed' },
          { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' },
        ]),
      ],
      PLAIN,
    );
    expect(calm).not.toMatch(/Halted=|Degraded=|Running=/);
    const halted = strategiesText(
      [view([{ type: 'Halted', status: 'True', reason: 'GuardrailCrossed', message: 'maxLoss on pair 0' }])],
      PLAIN,
    );
    expect(halted).toContain('Halted=True GuardrailCrossed: maxLoss on pair 0');
  });
});
