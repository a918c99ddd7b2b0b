// Rollout policy WhenFlat (spec.maintenance, ADR 0021): since when every engine of a desk has had
// no open order and no position change, read from the engines' HTTP API (GET /api/orders_state,
// GET /api/positions) with the operator's admin token. An engine that does not answer, or an order
// whose outcome is not final, is not flat: the rollout waits rather than guess.
import { createHash } from 'node:crypto';
import type { OrdersState, Position } from '@veloz/api/http/schemas';
import type { EngineAccess } from '../engine-access.ts';

/** Order statuses that can no longer trade; anything else (UNKNOWN too) is open. */
const FINAL = new Set(['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED']);

export class FlatTracker {
  private readonly engines: EngineAccess;
  /** Per desk: the positions last seen and since when they have not changed, with no open order. */
  private readonly seen = new Map<string, { positions: string; since: Date }>();

  constructor(engines: EngineAccess) {
    this.engines = engines;
  }

  /** Since when the desk has been flat as of `now`, or undefined when it is not (or not known). */
  async flatSince(
    namespace: string,
    deployment: string,
    enginePods: readonly string[],
    now: Date,
  ): Promise<Date | undefined> {
    const key = `${namespace}/${deployment}`;
    const positions = await this.positions(namespace, enginePods);
    if (positions === undefined) {
      this.seen.delete(key);
      return undefined;
    }
    const last = this.seen.get(key);
    if (last?.positions === positions) return last.since;
    this.seen.set(key, { positions, since: now });
    return now;
  }

  forget(namespace: string, deployment: string): void {
    this.seen.delete(`${namespace}/${deployment}`);
  }

  /** A digest of every engine's positions, or undefined when one has an open order or no answer. */
  private async positions(namespace: string, pods: readonly string[]): Promise<string | undefined> {
    const all: Array<[string, Position[]]> = [];
    for (const pod of pods) {
      try {
        const orders = await this.engines.call<OrdersState>(namespace, pod, 'GET', '/api/orders_state');
        if (orders.status !== 200 || orders.body.orders.some((o) => !FINAL.has(o.status))) return undefined;
        const pos = await this.engines.call<{ positions: Position[] }>(
          namespace,
          pod,
          'GET',
          '/api/positions',
        );
        if (pos.status !== 200) return undefined;
        all.push([pod, pos.body.positions]);
      } catch {
        return undefined;
      }
    }
    // Bought and sold count too: a round trip back to the same net position is a change.
    const digest = all.map(([pod, ps]) => [
      pod,
      ps.map((p) => [p.symbol, p.strategy, p.quantity, p.boughtQuantity, p.soldQuantity]).sort(),
    ]);
    return createHash('sha256').update(JSON.stringify(digest)).digest('hex');
  }
}
