// Time as a dependency, so leader election and backoff can be tested with a fake clock.
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};

/** Exponential backoff: base * 2^attempt, capped, with up to `jitter` (0..1) random spread. */
export function backoffMs(
  attempt: number,
  baseMs: number,
  capMs: number,
  jitter = 0,
  rand = Math.random,
): number {
  const raw = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(raw * (1 - jitter * rand()));
}
