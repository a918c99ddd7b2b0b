// Engine events for the SSE stream and stdio mode, with a bounded replay buffer so a client
// that reconnects with Last-Event-ID misses nothing that is still buffered.

export type EngineEventType = 'order' | 'fill' | 'market' | 'strategy' | 'system';

export interface EngineEvent {
  id: number;
  type: EngineEventType;
  data: unknown;
}

export type Listener = (e: EngineEvent) => void;

export class EventHub {
  private readonly ring: EngineEvent[] = [];
  private readonly capacity: number;
  private readonly listeners = new Set<Listener>();
  private nextId = 1;

  constructor(capacity = 10_000) {
    this.capacity = capacity;
  }

  publish(type: EngineEventType, data: unknown): void {
    const e: EngineEvent = { id: this.nextId++, type, data };
    this.ring.push(e);
    if (this.ring.length > this.capacity) this.ring.shift();
    for (const l of this.listeners) l(e);
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  /** Events after `lastId`, or null when some of them have already left the buffer. */
  since(lastId: number): EngineEvent[] | null {
    const first = this.ring[0];
    if (!first) return lastId >= this.nextId - 1 ? [] : null;
    if (lastId < first.id - 1) return null;
    return this.ring.slice(Math.max(0, lastId - first.id + 1));
  }
}
