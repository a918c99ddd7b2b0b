// The engine's parsers accept the documentation's own sample answers, and refuse answers that
// lack what the engine reads.
import { describe, expect, it } from 'vitest';
import { fixture } from '@veloz/testing/fake-binance/fixtures';
import { AnswerShapeError, parse } from './binance-answers.ts';
import { instrumentFromExchangeInfo } from './filters.ts';

describe('Binance answer parsers', () => {
  it.each([
    ['order-full', parse.order],
    ['order-result', parse.order],
    ['order-query', parse.order],
    ['cancel', parse.order],
    ['open-orders', parse.orders],
    ['all-orders', parse.orders],
    ['cancel-open-orders', parse.orders],
    ['my-trades', parse.trades],
    ['exchange-info', parse.exchangeInfo],
    ['time', parse.serverTime],
    ['depth', parse.depth],
    ['trades', parse.publicTrades],
    ['account', parse.account],
  ] as const)('accept the docs’ %s sample', (name, parser) => {
    const answer = fixture(name).answer;
    expect(parser(answer)).toBe(answer);
  });

  it('turn the docs’ exchange info into an instrument', () => {
    const info = parse.exchangeInfo(fixture('exchange-info').answer);
    expect(instrumentFromExchangeInfo(info.symbols[0]!)).toMatchObject({
      symbol: 'ETHBTC',
      priceDecimals: 6,
      tickSize: 1,
      qtyDecimals: 3,
      stepSize: 1,
    });
  });

  it('refuse an answer without what the engine reads', () => {
    const { executedQty: _, ...noExecuted } = fixture('order-query').answer as Record<string, unknown>;
    expect(() => parse.order(noExecuted)).toThrow(AnswerShapeError);
    expect(() => parse.order({ ...noExecuted, executedQty: 1.5 })).toThrow(/executedQty/);
    expect(() => parse.trades([{ id: 1 }])).toThrow(AnswerShapeError);
  });
});
