// How the plugin writes: aligned tables, colour only on a terminal (NO_COLOR and pipes stay plain,
// as kubectl does), and -o json|yaml for scripts.
import { stripVTControlCharacters } from 'node:util';
import { stringify } from 'yaml';
import { UsageError } from '@veloz/common/args';

export type Format = 'text' | 'json' | 'yaml';

export function outputFormat(o: string | undefined): Format {
  if (o === undefined || o === 'text' || o === 'wide') return 'text';
  if (o === 'json' || o === 'yaml') return o;
  throw new UsageError(`-o ${o}: expected json or yaml`);
}

export function serialize(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value);
}

export interface Paint {
  good(s: string): string;
  bad(s: string): string;
  warn(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

const sgr =
  (code: number) =>
  (s: string): string =>
    `\u001b[${code}m${s}\u001b[0m`;

export const PLAIN: Paint = { good: String, bad: String, warn: String, bold: String, dim: String };
export const COLOUR: Paint = { good: sgr(32), bad: sgr(31), warn: sgr(33), bold: sgr(1), dim: sgr(2) };

/** Colour when writing to a terminal and NO_COLOR is not set, or when asked (--color=always). */
export function paintFor(stream: { isTTY?: boolean }, mode = 'auto'): Paint {
  if (mode === 'always') return COLOUR;
  if (mode === 'never') return PLAIN;
  if (mode !== 'auto') throw new UsageError(`--color ${mode}: expected auto, always or never`);
  return stream.isTTY && !process.env['NO_COLOR'] ? COLOUR : PLAIN;
}

const visibleLength = (s: string): number => stripVTControlCharacters(s).length;

/** Columns padded to their widest cell (colour codes do not count), two spaces apart. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(c))));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - visibleLength(c))))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** "3m ago", "2h ago": how long since an RFC 3339 time. */
export function ago(time: string | null, now: number): string {
  if (!time) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(time)) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  if (s < 172800) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}
