// How the gateway reaches its engine: over HTTP (--engine-url) or as a child speaking JSON lines
// (--engine-stdio). Either way a request gets an answer or an UpstreamError within the timeout,
// never a hang, and the engine's events arrive through onEvent.

export class UpstreamError extends Error {
  readonly kind: string;

  constructor(kind: string, message: string) {
    super(message);
    this.kind = kind;
  }
}

export interface UpstreamResponse {
  status: number;
  contentType: string | undefined;
  retryAfter: string | undefined;
  /** The answer's bytes as the engine sent them. */
  body: Buffer;
}

export interface UpstreamEvents {
  /** An engine event: its type and its data as JSON text. */
  event(type: string, data: string): void;
  /** Events may have been lost (the engine restarted or its buffer ran out). */
  reset(reason: string): void;
  /** The event stream from the engine came up or went down. */
  connected(up: boolean): void;
}

export interface Upstream {
  readonly description: string;
  /** True while the engine's events are flowing to the gateway. */
  readonly streaming: boolean;
  start(events: UpstreamEvents): void;
  request(
    method: string,
    path: string,
    /** JSON text, sent as it is. */
    body: Buffer | string | undefined,
    timeoutMs?: number,
  ): Promise<UpstreamResponse>;
  close(): Promise<void>;
}
