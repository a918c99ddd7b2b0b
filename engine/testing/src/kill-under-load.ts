// The engine's crash tests: order load on a real engine process that is killed (SIGKILL) while
// requests are in flight, a record of what the engine acknowledged, and what a restarted engine
// holds for each acknowledged order.
import { startEngineProcess } from './engine-process.ts';

/** An engine's answer for an order: the state it acknowledged. */
export interface Ack {
  orderId: number;
  status: string;
  filledQuantity: string;
  lastSequence: number;
}

export interface HeldOrder extends Ack {
  clientOrderId: string;
}

/** Statuses an order never leaves. */
export const TERMINAL = new Set(['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED']);

export type OrderBody = Record<string, string> & { clientOrderId: string };

/** A limit order far from the simulated market: it rests, and every checkpoint holds it. */
export function restingOrder(clientOrderId: string, i: number): OrderBody {
  return {
    symbol: 'BTCUSDT',
    side: i % 2 ? 'BUY' : 'SELL',
    type: 'LIMIT',
    quantity: '0.010',
    price: i % 2 ? '1000.00' : '900000.00',
    clientOrderId,
  };
}

/** Every order an engine acknowledged, by clientOrderId, with its last acknowledged state. */
export class AckedOrders {
  readonly acked = new Map<string, Ack>();
  /** Orders a cancel was sent for: a kill may cut its answer after the engine logged it. */
  readonly cancelSent = new Set<string>();
  /** The newest sequence an answer acknowledged. */
  lastSequence = 0;

  /** POSTs the order; its acknowledgement on 201, else undefined. */
  async place(url: string, order: OrderBody): Promise<Ack | undefined> {
    const res = await fetch(`${url}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(order),
    });
    return this.record(order.clientOrderId, res, 201);
  }

  /** Places `count` orders, `batch` at a time, and throws unless the engine acknowledged each. */
  async placeAll(url: string, count: number, order: (i: number) => OrderBody, batch = 50): Promise<void> {
    for (let first = 0; first < count; first += batch) {
      const size = Math.min(batch, count - first);
      const acks = await Promise.all(
        Array.from({ length: size }, (_, i) => this.place(url, order(first + i))),
      );
      const refused = acks.filter((a) => a === undefined).length;
      if (refused > 0) throw new Error(`orders ${first}..${first + size - 1}: ${refused} not acknowledged`);
    }
  }

  /** DELETEs an acknowledged order; the cancel's acknowledgement on 200, else undefined. */
  async cancel(url: string, clientOrderId: string, orderId: number): Promise<Ack | undefined> {
    this.cancelSent.add(clientOrderId);
    const res = await fetch(`${url}/api/orders/${orderId}`, { method: 'DELETE' });
    return this.record(clientOrderId, res, 200);
  }

  /**
   * What the engine at `url` lost of the acknowledged orders: `missing`, those it does not hold;
   * `behind`, one line for each it holds in an earlier state than acknowledged (another id, an
   * older sequence, less filled, or no longer in the terminal status acknowledged). A later state
   * is no loss: a request the kill cut may have changed the order after its record.
   */
  async lostAt(url: string): Promise<{ missing: string[]; behind: string[] }> {
    const state = (await (await fetch(`${url}/api/orders_state`)).json()) as { orders: HeldOrder[] };
    const byClient = new Map(state.orders.map((o) => [o.clientOrderId, o]));
    const missing: string[] = [];
    const behind: string[] = [];
    for (const [cid, ack] of this.acked) {
      const got = byClient.get(cid);
      if (!got) missing.push(cid);
      else if (
        got.orderId !== ack.orderId ||
        got.lastSequence < ack.lastSequence ||
        Number(got.filledQuantity) < Number(ack.filledQuantity) ||
        (TERMINAL.has(ack.status) && got.status !== ack.status)
      )
        behind.push(`${cid}: acknowledged ${JSON.stringify(ack)}, holds ${JSON.stringify(got)}`);
    }
    return { missing, behind };
  }

  private async record(clientOrderId: string, res: Response, ok: number): Promise<Ack | undefined> {
    if (res.status !== ok) {
      await res.arrayBuffer();
      return undefined;
    }
    const ack = (await res.json()) as Ack;
    this.acked.set(clientOrderId, ack);
    this.lastSequence = Math.max(this.lastSequence, ack.lastSequence);
    return ack;
  }
}

/**
 * Starts an engine on `env`, runs `workers` loops of `step` against it, and kills it with SIGKILL
 * once `until` settles; returns when every loop has stopped.
 */
export async function killUnderLoad(
  env: Record<string, string>,
  step: (url: string, worker: number) => Promise<unknown>,
  until: () => Promise<unknown>,
  workers = 16,
): Promise<void> {
  const engine = await startEngineProcess(env);
  let stop = false;
  const loop = async (w: number) => {
    while (!stop) {
      try {
        await step(engine.url, w);
      } catch {
        // The kill cut the request: it was never acknowledged.
      }
    }
  };
  const loops = Array.from({ length: workers }, (_, w) => loop(w));
  try {
    await until();
  } finally {
    await engine.kill('SIGKILL');
    stop = true;
    await Promise.all(loops);
  }
}
