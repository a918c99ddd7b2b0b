// Request weights of the endpoints the fake serves, as rest-api.md states them, so that its
// X-MBX-USED-WEIGHT-1M header counts like the exchange's.

function symbolsCount(q: URLSearchParams): number | undefined {
  const many = q.get('symbols');
  if (!many) return undefined;
  try {
    const list: unknown = JSON.parse(many);
    return Array.isArray(list) ? list.length : undefined;
  } catch {
    return undefined;
  }
}

export function requestWeight(method: string, path: string, q: URLSearchParams): number {
  const one = q.has('symbol');
  const n = symbolsCount(q);
  switch (`${method} ${path}`) {
    case 'GET /api/v3/exchangeInfo':
    case 'GET /api/v3/account':
    case 'GET /api/v3/allOrders':
      return 20;
    case 'GET /api/v3/depth': {
      const limit = Number(q.get('limit') ?? 100);
      return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
    }
    case 'GET /api/v3/trades':
      return 25;
    case 'GET /api/v3/aggTrades':
    case 'GET /api/v3/order':
      return 4;
    case 'GET /api/v3/ticker/24hr':
      if (one) return 2;
      if (n === undefined) return 80;
      return n <= 20 ? 2 : n <= 100 ? 40 : 80;
    case 'GET /api/v3/ticker/bookTicker':
    case 'GET /api/v3/ticker/price':
      return one ? 2 : 4;
    case 'GET /api/v3/openOrders':
      return one ? 6 : 80;
    case 'GET /api/v3/myTrades':
      return q.has('orderId') ? 5 : 20;
    case 'POST /api/v3/order/test':
      return q.get('computeCommissionRates') === 'true' ? 20 : 1;
    default:
      return 1;
  }
}
