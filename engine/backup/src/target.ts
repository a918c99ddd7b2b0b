// The directory `veloz restore` writes into (--to), and whether a restore may go ahead there.
//
// A target HOLDS A WAL when one of its segments (orders_current.wal or a sealed
// orders_<n>.wal) has at least one valid record, or bytes that strict recovery would refuse as
// damage: acknowledged orders may be in them, so only --force replaces them. Everything else is
// STRAY: files that are no segment (left where they are), and segments with no record (empty,
// zero-filled, or a first record cut short), on which the engine would start with an empty book;
// a restore sets those aside in quarantine/, where recovery puts what it cuts off.
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDirectory } from '@veloz/common/directory';
import { verifyWal } from '@veloz/wal/recovery';
import { MARK_FILE } from '@veloz/wal/segments';

/** Entries that do not make a target "non-empty" (a fresh ext4 volume has lost+found). */
const IGNORED = new Set(['lost+found']);
const ignored = (e: string) => IGNORED.has(e) || e.startsWith('.veloz-restore-');
const QUARANTINE = 'quarantine';

export interface TargetContents {
  /** One line per segment that makes the target hold a WAL; empty when it holds none. */
  wal: string[];
  /** Segment files without a record. */
  emptySegments: string[];
  /** Entries that are not segments. */
  other: string[];
}

/** What `dir` holds, read-only. */
export async function inspectTarget(dir: string): Promise<TargetContents> {
  const report = await verifyWal(dir);
  const out: TargetContents = { wal: [], emptySegments: [], other: [] };
  for (const s of report.segments) {
    if (s.entries > 0) {
      out.wal.push(`${s.name}: ${s.entries} records, sequences ${s.firstSeq}-${s.lastSeq}`);
    } else if (s.problem?.kind === 'corrupt' && s.size > 0) {
      out.wal.push(`${s.name}: damaged at offset ${s.problem.offset} (${s.problem.reason})`);
    } else {
      out.emptySegments.push(s.name);
    }
  }
  out.other = report.strayFiles.filter((e) => !ignored(e)).sort();
  // A quarantine/ directory is recovery's, not a WAL; it counts as something the target holds.
  const names = await readdir(dir);
  if (names.includes(QUARANTINE)) out.other.push(`${QUARANTINE}/`);
  // So does a WAL's side file without segments (a restore writes its own).
  if (names.includes(MARK_FILE)) out.other.push(MARK_FILE);
  return out;
}

export type TargetMode =
  /** Only an empty target. */
  | 'refuse'
  /** Empty whatever is there first. */
  | 'force'
  /** Any target that holds no WAL (an init container at every pod start). */
  | 'if-empty';

export type PreparedTarget =
  { ready: true; stray: string[]; setAside: string[] } | { ready: false; holdsWal: boolean; reason: string };

/** Where an empty segment goes: quarantine/<ms>-<name>, never over an earlier one. */
async function setAside(dir: string, name: string): Promise<string> {
  await makeDirectory(join(dir, QUARANTINE));
  let target = join(dir, QUARANTINE, `${Date.now()}-${name}`);
  for (
    let i = 1;
    await stat(target).then(
      () => true,
      () => false,
    );
    i++
  )
    target = join(dir, QUARANTINE, `${Date.now()}-${i}-${name}`);
  await rename(join(dir, name), target);
  return target;
}

/** Creates `dir` when missing and decides, per `mode`, whether a restore may write there. */
export async function prepareTarget(dir: string, mode: TargetMode): Promise<PreparedTarget> {
  await makeDirectory(dir);
  const entries = (await readdir(dir)).filter((e) => !ignored(e));
  if (entries.length === 0) return { ready: true, stray: [], setAside: [] };
  if (mode === 'force') {
    for (const e of entries) await rm(join(dir, e), { recursive: true, force: true });
    return { ready: true, stray: [], setAside: [] };
  }
  const t = await inspectTarget(dir);
  if (t.wal.length > 0) return { ready: false, holdsWal: true, reason: `holds a WAL: ${t.wal.join('; ')}` };
  const stray = [...t.emptySegments.map((s) => `${s} (no record)`), ...t.other];
  if (mode === 'refuse')
    return { ready: false, holdsWal: false, reason: `holds no WAL, but: ${stray.join(', ')}` };
  const moved: string[] = [];
  for (const s of t.emptySegments) moved.push(await setAside(dir, s));
  return { ready: true, stray, setAside: moved };
}
