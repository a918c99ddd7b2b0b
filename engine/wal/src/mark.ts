// The WAL's side file, wal.json: the WAL's identity (an id made once, with the WAL) and a durable
// high-water mark, the highest sequence known to be durable when the file was last written. It
// lives outside the segments so that losing records from the end of the log (a segment cut at a
// record boundary, emptied or deleted) can be told from a log that simply ends there
// (docs/adr/0012-wal-high-water-mark.md). It is replaced atomically: temp file, fsync, rename,
// fsync of the directory.
import { randomUUID } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { CURRENT_SEGMENT, MARK_FILE, fsyncDir } from './segments.ts';

export const MARK_FORMAT = 'veloz-wal-mark/1';
let temps = 0;

export interface WalMark {
  format: typeof MARK_FORMAT;
  /** Made once with the WAL; a restore carries it over. */
  walId: string;
  /** Every record up to this sequence was durable (and may have been acknowledged). */
  durableSequence: number;
  /** When the mark was written, ISO 8601. */
  updatedAt: string;
}

export class WalMarkError extends Error {}

export function newWalId(): string {
  return randomUUID();
}

/** The directory's mark, or null when it has none (a WAL made before marks existed, or a new one). */
export async function readMark(dir: string): Promise<WalMark | null> {
  const path = join(dir, MARK_FILE);
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let m: Partial<WalMark> | null;
  try {
    m = JSON.parse(raw) as Partial<WalMark> | null;
  } catch {
    throw new WalMarkError(
      `${path} is not valid JSON: restore it from a backup, or move it away to start without it`,
    );
  }
  const ok =
    m !== null &&
    typeof m === 'object' &&
    m.format === MARK_FORMAT &&
    typeof m.walId === 'string' &&
    m.walId.length > 0 &&
    Number.isSafeInteger(m.durableSequence) &&
    m.durableSequence! >= 0;
  if (!ok) {
    throw new WalMarkError(
      `${path} is not a ${MARK_FORMAT} file (format, walId, durableSequence): restore it from a backup, or move it away to start without it`,
    );
  }
  return m as WalMark;
}

/**
 * Replaces the directory's mark atomically and, unless the caller syncs the directory itself
 * (`syncDir` false), durably.
 */
export async function writeMark(
  dir: string,
  mark: Omit<WalMark, 'format' | 'updatedAt'>,
  now: () => number = Date.now,
  syncDir = true,
): Promise<WalMark> {
  const full: WalMark = { format: MARK_FORMAT, ...mark, updatedAt: new Date(now()).toISOString() };
  // A temp name of its own: a writer abandoned by a test (a simulated crash) may still be
  // finishing its last mark while the next one starts.
  const temp = `${MARK_FILE}.${process.pid}-${temps++}.tmp`;
  const fh = await open(join(dir, temp), 'w');
  try {
    await fh.writeFile(`${JSON.stringify(full)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(join(dir, temp), join(dir, MARK_FILE));
  if (syncDir) await fsyncDir(dir);
  return full;
}

/** What is missing when the log ends before its mark, or null. */
export function missingRecords(mark: WalMark | null, lastSequence: number): string | null {
  if (mark === null || lastSequence >= mark.durableSequence) return null;
  const from = lastSequence + 1;
  const range =
    from === mark.durableSequence ? `record ${from} is` : `records ${from} to ${mark.durableSequence} are`;
  return (
    `acknowledged ${range} missing: ${MARK_FILE} (written ${mark.updatedAt}) says sequence ` +
    `${mark.durableSequence} was durable, but the log ends at ${lastSequence} ` +
    `(the end of ${CURRENT_SEGMENT} or a segment was cut, emptied or deleted)`
  );
}
