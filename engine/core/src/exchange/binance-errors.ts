// What a Binance error says about the request it answers: every code of the official error
// page (errors.md) with its outcome class. docs/exchange-errors.md is generated from this table,
// and a test checks it against the list of codes taken from the page, so neither can drift.

/**
 * - `reject`: refused; the request was not executed. A new order is REJECTED; a query's
 *   refusal is an answer (e.g. -2013: not found at this moment).
 * - `unknown`: the request may or may not have been executed. A new order stays UNKNOWN until
 *   the exchange's own answer (a query, later the stream) says what happened.
 * - `retryable`: refused before execution because of a limit or the clock; the same request may
 *   be sent again after backing off (Retry-After) or resynchronising the clock.
 * - `fatal`: refused because the engine is misconfigured (key, secret, permissions, IP
 *   allow-list) or the service is gone: not executed, and retrying cannot help. The venue is not
 *   ready until a signed request succeeds again.
 */
export type OutcomeClass = 'reject' | 'unknown' | 'retryable' | 'fatal';

export const OUTCOME_CLASSES: Readonly<Record<OutcomeClass, string>> = {
  reject: 'refused, not executed: a new order is REJECTED; for a query the refusal is the answer',
  unknown: 'may have been executed: the order stays UNKNOWN until the exchange says what happened',
  retryable: 'refused before execution (limits, clock): sent again after the back-off or a clock resync',
  fatal:
    'refused because the engine is misconfigured or the service is gone: not executed; the venue is not ready until a signed request succeeds',
};

export interface ErrorCode {
  name: string;
  outcome: OutcomeClass;
  /** False for codes only other APIs produce (FIX, SBE, order lists, ...): the REST venue never sends those requests. */
  venue: boolean;
  why: string;
}

const e = (name: string, outcome: OutcomeClass, venue: boolean, why: string): ErrorCode => ({
  name,
  outcome,
  venue,
  why,
});
const malformed = (name: string) => e(name, 'reject', true, 'malformed request, refused before execution');
const fix = (name: string) => e(name, 'reject', false, 'FIX API sessions only');
const sbe = (name: string) => e(name, 'reject', false, 'SBE encoding only; the engine asks for JSON');
const orderList = (name: string) =>
  e(name, 'reject', false, 'order lists (OCO, OPO); the engine sends single orders');

export const BINANCE_ERROR_CODES: Readonly<Record<number, ErrorCode>> = {
  [-1000]: e('UNKNOWN', 'unknown', true, 'an unknown error while processing: it may have been executed'),
  [-1001]: e('DISCONNECTED', 'unknown', true, 'internal error; the docs do not say whether it was executed'),
  [-1002]: e('UNAUTHORIZED', 'fatal', true, 'the API key may not do this'),
  [-1003]: e('TOO_MANY_REQUESTS', 'retryable', true, 'request weight limit: refused, wait Retry-After'),
  [-1006]: e('UNEXPECTED_RESP', 'unknown', true, 'the docs: execution status unknown'),
  [-1007]: e('TIMEOUT', 'unknown', true, 'the docs: send status unknown; execution status unknown'),
  [-1008]: e('SERVER_BUSY', 'unknown', true, 'overloaded; the docs do not say whether it was executed'),
  [-1010]: e('ERROR_MSG_RECEIVED', 'reject', true, 'the matching engine refused it (message says why)'),
  [-1013]: e(
    'INVALID_MESSAGE',
    'reject',
    true,
    'the docs: rejected by the API, it did not reach the matching engine',
  ),
  [-1014]: e('UNKNOWN_ORDER_COMPOSITION', 'reject', true, 'unsupported order combination'),
  [-1015]: e('TOO_MANY_ORDERS', 'retryable', true, 'order rate limit: refused, wait Retry-After'),
  [-1016]: e('SERVICE_SHUTTING_DOWN', 'fatal', true, 'the service is no longer available'),
  [-1020]: e('UNSUPPORTED_OPERATION', 'reject', true, 'the operation is not supported'),
  [-1021]: e(
    'INVALID_TIMESTAMP',
    'retryable',
    true,
    'outside recvWindow: refused before processing; resync the clock and resend',
  ),
  [-1022]: e('INVALID_SIGNATURE', 'fatal', true, 'the secret does not match the key'),
  [-1033]: fix('COMP_ID_IN_USE'),
  [-1034]: e('TOO_MANY_CONNECTIONS', 'retryable', false, 'WebSocket API and FIX connection limits'),
  [-1035]: fix('LOGGED_OUT'),
  [-1100]: malformed('ILLEGAL_CHARS'),
  [-1101]: malformed('TOO_MANY_PARAMETERS'),
  [-1102]: malformed('MANDATORY_PARAM_EMPTY_OR_MALFORMED'),
  [-1103]: malformed('UNKNOWN_PARAM'),
  [-1104]: malformed('UNREAD_PARAMETERS'),
  [-1105]: malformed('PARAM_EMPTY'),
  [-1106]: malformed('PARAM_NOT_REQUIRED'),
  [-1108]: malformed('PARAM_OVERFLOW'),
  [-1111]: malformed('BAD_PRECISION'),
  [-1112]: e('NO_DEPTH', 'reject', true, 'no orders on the book for the symbol'),
  [-1114]: malformed('TIF_NOT_REQUIRED'),
  [-1115]: malformed('INVALID_TIF'),
  [-1116]: malformed('INVALID_ORDER_TYPE'),
  [-1117]: malformed('INVALID_SIDE'),
  [-1118]: malformed('EMPTY_NEW_CL_ORD_ID'),
  [-1119]: malformed('EMPTY_ORG_CL_ORD_ID'),
  [-1120]: e('BAD_INTERVAL', 'reject', false, 'kline intervals; the engine reads no klines'),
  [-1121]: e('BAD_SYMBOL', 'reject', true, 'the symbol does not exist on this exchange'),
  [-1122]: e(
    'INVALID_SYMBOLSTATUS',
    'reject',
    false,
    'the symbolStatus parameter; the engine does not send it',
  ),
  [-1125]: e('INVALID_LISTEN_KEY', 'reject', false, 'listen-key user data streams; not used yet'),
  [-1127]: e('MORE_THAN_XX_HOURS', 'reject', false, 'startTime/endTime ranges; the engine pages by id'),
  [-1128]: malformed('OPTIONAL_PARAMS_BAD_COMBO'),
  [-1130]: malformed('INVALID_PARAMETER'),
  [-1134]: e('BAD_STRATEGY_TYPE', 'reject', false, 'strategyType; the engine does not send it'),
  [-1135]: malformed('INVALID_JSON'),
  [-1139]: e('INVALID_TICKER_TYPE', 'reject', false, 'ticker types; the engine reads no tickers'),
  [-1145]: e(
    'INVALID_CANCEL_RESTRICTIONS',
    'reject',
    false,
    'cancelRestrictions; the engine does not send it',
  ),
  [-1151]: malformed('DUPLICATE_SYMBOLS'),
  [-1152]: sbe('INVALID_SBE_HEADER'),
  [-1153]: sbe('UNSUPPORTED_SCHEMA_ID'),
  [-1155]: sbe('SBE_DISABLED'),
  [-1158]: orderList('OCO_ORDER_TYPE_REJECTED'),
  [-1160]: orderList('OCO_ICEBERGQTY_TIMEINFORCE'),
  [-1161]: sbe('DEPRECATED_SCHEMA'),
  [-1165]: orderList('BUY_OCO_LIMIT_MUST_BE_BELOW'),
  [-1166]: orderList('SELL_OCO_LIMIT_MUST_BE_ABOVE'),
  [-1168]: orderList('BOTH_OCO_ORDERS_CANNOT_BE_LIMIT'),
  [-1169]: fix('INVALID_TAG_NUMBER'),
  [-1170]: fix('TAG_NOT_DEFINED_IN_MESSAGE'),
  [-1171]: fix('TAG_APPEARS_MORE_THAN_ONCE'),
  [-1172]: fix('TAG_OUT_OF_ORDER'),
  [-1173]: fix('GROUP_FIELDS_OUT_OF_ORDER'),
  [-1174]: fix('INVALID_COMPONENT'),
  [-1175]: fix('RESET_SEQ_NUM_SUPPORT'),
  [-1176]: fix('ALREADY_LOGGED_IN'),
  [-1177]: fix('GARBLED_MESSAGE'),
  [-1178]: fix('BAD_SENDER_COMPID'),
  [-1179]: fix('BAD_SEQ_NUM'),
  [-1180]: fix('EXPECTED_LOGON'),
  [-1181]: fix('TOO_MANY_MESSAGES'),
  [-1182]: fix('PARAMS_BAD_COMBO'),
  [-1183]: fix('NOT_ALLOWED_IN_DROP_COPY_SESSIONS'),
  [-1184]: fix('DROP_COPY_SESSION_NOT_ALLOWED'),
  [-1185]: fix('DROP_COPY_SESSION_REQUIRED'),
  [-1186]: fix('NOT_ALLOWED_IN_ORDER_ENTRY_SESSIONS'),
  [-1187]: fix('NOT_ALLOWED_IN_MARKET_DATA_SESSIONS'),
  [-1188]: fix('INCORRECT_NUM_IN_GROUP_COUNT'),
  [-1189]: fix('DUPLICATE_ENTRIES_IN_A_GROUP'),
  [-1190]: fix('INVALID_REQUEST_ID'),
  [-1191]: e('TOO_MANY_SUBSCRIPTIONS', 'reject', false, 'FIX market data and WebSocket subscriptions'),
  [-1194]: e('INVALID_TIME_UNIT', 'reject', false, 'X-MBX-TIME-UNIT; the engine uses milliseconds'),
  [-1196]: orderList('BUY_OCO_STOP_LOSS_MUST_BE_ABOVE'),
  [-1197]: orderList('SELL_OCO_STOP_LOSS_MUST_BE_BELOW'),
  [-1198]: orderList('BUY_OCO_TAKE_PROFIT_MUST_BE_BELOW'),
  [-1199]: orderList('SELL_OCO_TAKE_PROFIT_MUST_BE_ABOVE'),
  [-1210]: e('INVALID_PEG_PRICE_TYPE', 'reject', false, 'pegged orders; the engine sends none'),
  [-1211]: e('INVALID_PEG_OFFSET_TYPE', 'reject', false, 'pegged orders; the engine sends none'),
  [-1220]: e(
    'SYMBOL_DOES_NOT_MATCH_STATUS',
    'reject',
    false,
    'the symbolStatus parameter; the engine does not send it',
  ),
  [-1221]: sbe('INVALID_SBE_MESSAGE_FIELD'),
  [-1222]: orderList('OPO_WORKING_MUST_BE_BUY'),
  [-1223]: orderList('OPO_PENDING_MUST_BE_SELL'),
  [-1224]: orderList('WORKING_PARAM_REQUIRED'),
  [-1225]: orderList('PENDING_PARAM_NOT_REQUIRED'),
  [-2010]: e(
    'NEW_ORDER_REJECTED',
    'reject',
    true,
    'the matching engine refused the order (balance, market closed, ...); "Duplicate order sent." is unknown: an order with this client id is already on the book',
  ),
  [-2011]: e(
    'CANCEL_REJECTED',
    'reject',
    true,
    'the cancel was not executed: the order has finished or not arrived yet (query it)',
  ),
  [-2013]: e(
    'NO_SUCH_ORDER',
    'reject',
    true,
    'not found now; it means "never arrived" only after the acceptance horizon (timestamp + recvWindow + margin)',
  ),
  [-2014]: e('BAD_API_KEY_FMT', 'fatal', true, 'the API key is malformed'),
  [-2015]: e('REJECTED_MBX_KEY', 'fatal', true, 'invalid key, IP not allowed, or missing permission'),
  [-2016]: e('NO_TRADING_WINDOW', 'reject', false, 'trading-day tickers; the engine reads none'),
  [-2021]: e(
    'Order cancel-replace partially failed',
    'unknown',
    false,
    'cancel-replace; the engine does not use it',
  ),
  [-2022]: e('Order cancel-replace failed', 'reject', false, 'cancel-replace; the engine does not use it'),
  [-2026]: e(
    'ORDER_ARCHIVED',
    'reject',
    true,
    'the order ended (canceled or expired) with nothing executed over 90 days ago',
  ),
  [-2035]: e(
    'SUBSCRIPTION_ACTIVE',
    'reject',
    false,
    'WebSocket API user data stream subscriptions; not used yet',
  ),
  [-2036]: e(
    'SUBSCRIPTION_INACTIVE',
    'reject',
    false,
    'WebSocket API user data stream subscriptions; not used yet',
  ),
  [-2038]: e('ORDER_AMEND_REJECTED', 'reject', false, 'order amends; the engine sends none'),
  [-2039]: e(
    'CLIENT_ORDER_ID_INVALID',
    'reject',
    false,
    'orderId with origClientOrderId; the engine sends one of them',
  ),
  [-2042]: e('MAXIMUM_SUBSCRIPTION_IDS', 'reject', false, 'WebSocket API subscriptions; not used yet'),
  [-2043]: e('NO_REFERENCE_PRICE', 'reject', false, 'reference prices; the engine reads none'),
};

/** Answers without a Binance error code, by HTTP status (anything else without a code is unknown). */
export const HTTP_ONLY: Readonly<Record<string, { outcome: OutcomeClass; why: string }>> = {
  '403': {
    outcome: 'reject',
    why: 'a WAF rule refused the request before it reached the API; requests back off',
  },
  '418': { outcome: 'retryable', why: 'IP banned for ignoring 429s: refused, wait Retry-After' },
  '429': { outcome: 'retryable', why: 'rate limit: refused, wait Retry-After' },
  '5XX': { outcome: 'unknown', why: 'the docs: do NOT treat it as a failure, execution status is UNKNOWN' },
  'no answer': { outcome: 'unknown', why: 'timeout or lost connection: the request may have arrived' },
};

export const ERR = {
  TOO_MANY_REQUESTS: -1003,
  TOO_MANY_ORDERS: -1015,
  TIMESTAMP_OUTSIDE_RECV_WINDOW: -1021,
  INVALID_SIGNATURE: -1022,
  BAD_SYMBOL: -1121,
  NEW_ORDER_REJECTED: -2010,
  CANCEL_REJECTED: -2011,
  NO_SUCH_ORDER: -2013,
  ORDER_ARCHIVED: -2026,
} as const;

/**
 * The class of an error answer. The code decides when there is one; an unlisted code is
 * `unknown` (a query costs little, a wrong REJECTED loses a live order). Without a code only
 * the HTTP status is left.
 */
export function classifyAnswer(status: number, code: number | undefined, msg: string): OutcomeClass {
  if (code !== undefined) {
    if (code === ERR.NEW_ORDER_REJECTED && /duplicate order/i.test(msg)) return 'unknown';
    return BINANCE_ERROR_CODES[code]?.outcome ?? 'unknown';
  }
  if (status === 429 || status === 418) return 'retryable';
  if (status === 403) return 'reject';
  return 'unknown';
}
