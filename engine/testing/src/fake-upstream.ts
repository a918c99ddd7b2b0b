// An engine for the gateway's in-process tests: it records what the gateway forwards and answers
// with what the test queued, or fails like an engine that is down.
import type { Upstream, UpstreamEvents, UpstreamResponse } from '@veloz/gateway/upstream';
import { UpstreamError } from '@veloz/gateway/upstream';

export interface ForwardedRequest {
  method: string;
  path: string;
  /** The body as the gateway sent it. */
  body: string | undefined;
}

export type FakeAnswer =
  { status: number; body?: unknown; contentType?: string; retryAfter?: string } | UpstreamError;

export class FakeUpstream implements Upstream {
  readonly description = 'fake engine';
  streaming = true;
  readonly requests: ForwardedRequest[] = [];
  events: UpstreamEvents | undefined;
  /** The answer to a request no rule matched. */
  fallback: FakeAnswer = { status: 200, body: {} };
  private readonly rules: Array<{ method: string; path: string; answer: FakeAnswer }> = [];
  closed = false;

  /** Answers `method path` (the path with its query) with `answer` from now on. */
  on(method: string, path: string, answer: FakeAnswer): this {
    this.rules.unshift({ method, path, answer });
    return this;
  }

  start(events: UpstreamEvents): void {
    this.events = events;
  }

  async request(method: string, path: string, body: Buffer | string | undefined): Promise<UpstreamResponse> {
    this.requests.push({ method, path, body: body === undefined ? undefined : body.toString() });
    const answer = this.rules.find((r) => r.method === method && r.path === path)?.answer ?? this.fallback;
    if (answer instanceof UpstreamError) throw answer;
    const text =
      typeof answer.body === 'string'
        ? answer.body
        : answer.body === undefined
          ? ''
          : JSON.stringify(answer.body);
    return {
      status: answer.status,
      contentType: answer.contentType ?? 'application/json; charset=utf-8',
      retryAfter: answer.retryAfter,
      body: Buffer.from(text),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
