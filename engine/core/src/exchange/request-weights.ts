// The request weight of each REST endpoint the engine calls, as rest-api.md states it, so the
// weight budget (weight-budget.ts) can count a request before it leaves. An endpoint not listed
// counts 1, the docs' lowest weight; the exchange's X-MBX-USED-WEIGHT headers correct any error.
import type { Params } from './signing.ts';

export function requestWeight(method: string, path: string, params: Params): number {
  const one = params.symbol !== undefined;
  switch (`${method} ${path}`) {
    case 'GET /api/v3/exchangeInfo':
    case 'GET /api/v3/account':
    case 'GET /api/v3/allOrders':
      return 20;
    case 'GET /api/v3/depth': {
      const limit = Number(params.limit ?? 100);
      return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
    }
    case 'GET /api/v3/trades':
      return 25;
    case 'GET /api/v3/aggTrades':
    case 'GET /api/v3/order':
      return 4;
    case 'GET /api/v3/ticker/bookTicker':
    case 'GET /api/v3/ticker/price':
      return one ? 2 : 4;
    case 'GET /api/v3/openOrders':
      return one ? 6 : 80;
    case 'GET /api/v3/myTrades':
      return params.orderId !== undefined ? 5 : 20;
    case 'POST /api/v3/order/test':
      return params.computeCommissionRates === true || params.computeCommissionRates === 'true' ? 20 : 1;
    default:
      return 1;
  }
}

/** Weight of one REST market data poll of one symbol (binance-rest-feed.ts: depth 5 and trades). */
export const MARKET_POLL_WEIGHT =
  requestWeight('GET', '/api/v3/depth', { limit: 5 }) + requestWeight('GET', '/api/v3/trades', {});
