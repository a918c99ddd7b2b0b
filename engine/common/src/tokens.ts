// Tokens read from a variable's value or from a mounted Secret file (ADR 14). A file is read again
// every few seconds, so a rotated Secret reaches a running process without a restart: the kubelet
// replaces the mounted file's content in place, and a restart would interrupt trading on the pair.
import { readFileSync } from 'node:fs';

/** One or more tokens, separated by commas or new lines; the first is the one a caller sends. */
export function splitTokens(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(/[,\n]/)
    .map((t) => t.trim())
    .filter(Boolean);
}

export type TokenOrigin = { value: string } | { file: string };

export interface TokenSourceOptions {
  /** How often a file is read again (default 2 s). */
  reloadMs?: number;
  /** Told when a file cannot be read any more; the tokens last read stay in use. */
  onReadError?: (file: string, err: Error) => void;
}

export class TokenSource {
  private tokens: string[];
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(origin: TokenOrigin, opts: TokenSourceOptions = {}) {
    if ('value' in origin) {
      this.tokens = splitTokens(origin.value);
      this.timer = undefined;
      return;
    }
    const read = () => splitTokens(readFileSync(origin.file, 'utf8'));
    this.tokens = read();
    this.timer = setInterval(() => {
      try {
        this.tokens = read();
      } catch (err) {
        // Keep the last tokens: a Secret being swapped in must not lock every caller out.
        opts.onReadError?.(origin.file, err instanceof Error ? err : new Error(String(err)));
      }
    }, opts.reloadMs ?? 2000);
    this.timer.unref();
  }

  /** Every token currently accepted. */
  all(): readonly string[] {
    return this.tokens;
  }

  /** The token a caller sends: the first. */
  first(): string | undefined {
    return this.tokens[0];
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
