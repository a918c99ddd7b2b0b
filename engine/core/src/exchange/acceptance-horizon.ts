// When "order does not exist" may mean "the request never arrived". Binance accepts a signed
// request while serverTime - timestamp <= recvWindow (rest-api.md, "Timing security") and says its
// API is asynchronous, so a new order whose answer was lost can appear on the exchange well after
// the first queries found nothing. Only once its acceptance horizon has passed on the exchange's
// clock can a "no such order" be final.

export interface HorizonOptions {
  recvWindow: number;
  /** Covers the error of the clock offset estimate and the exchange's own processing delay. */
  marginMs: number;
}

/** The last moment (exchange clock) at which a request signed with `timestamp` can take effect. */
export function acceptanceHorizon(timestamp: number, o: HorizonOptions): number {
  return timestamp + o.recvWindow + o.marginMs;
}

/**
 * The horizon of a new order a previous process sent, from what its WAL holds (the signing time
 * is not recorded). An order the WAL says is UNKNOWN was signed before that record was written,
 * since UNKNOWN follows the request's end; one still SUBMITTED (or PENDING_CANCEL) may have been
 * signed until the process died, which was before this one started. Times are local; `offsetMs`
 * (exchange minus local) turns them into the exchange's clock.
 */
export function recoveredHorizon(
  order: { status: string; updatedAt: number },
  startedAt: number,
  offsetMs: number,
  o: HorizonOptions,
): number {
  const signedBy = order.status === 'UNKNOWN' ? Math.min(order.updatedAt, startedAt) : startedAt;
  return acceptanceHorizon(signedBy + offsetMs, o);
}
