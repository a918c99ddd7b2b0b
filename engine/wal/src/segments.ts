// A WAL directory's segments: how they are named, listed in log order and sealed. The writer,
// recovery, restore and the shipping tail all go through here.
import { open, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';

export const CURRENT_SEGMENT = 'orders_current.wal';
export const SEALED_SEGMENT = /^orders_(\d{16})\.wal$/;
/** Where recovery sets aside the bytes it cuts off (never a stray entry). */
export const QUARANTINE_DIR = 'quarantine';
/** The WAL's identity and durable high-water mark (mark.ts); it and its temp files are not stray. */
export const MARK_FILE = 'wal.json';
const MARK_FILES = /^wal\.json(\.\d+-\d+\.tmp)?$/;

/** A checkpoint kept in its own file (snapshot-file.ts): the state as of the record numbered. */
export const SNAPSHOT_FILE = /^checkpoint_(\d{16})\.json$/;
/** A snapshot file being written: never referenced, recovery deletes one a crash left. */
export const SNAPSHOT_TEMP = /^checkpoint_\d{16}\.json\.tmp$/;

/** The snapshot file of the state as of record `sequence` (every record up to it applied). */
export function snapshotFileName(sequence: number): string {
  return `checkpoint_${String(sequence).padStart(16, '0')}.json`;
}

export function sealedSegmentName(n: number): string {
  return `orders_${String(n).padStart(16, '0')}.wal`;
}

export interface Segment {
  name: string;
  /** Sealed segment number; null for the current segment. */
  number: number | null;
}

export interface SegmentListing {
  /** Sealed segments oldest first, then orders_current.wal when it exists. */
  segments: Segment[];
  /** Checkpoint files (checkpoint_<sequence>.json), oldest first; CheckpointRef records name them. */
  snapshots: string[];
  /** Checkpoint files a write left unfinished (a crash mid-write). */
  snapshotTemps: string[];
  /** Entries that are not segments (quarantine/, wal.json and checkpoint files aside). */
  stray: string[];
}

export async function listSegments(dir: string): Promise<SegmentListing> {
  const entries = await readdir(dir, { withFileTypes: true });
  const sealed: Array<Segment & { number: number }> = [];
  const stray: string[] = [];
  const snapshots: string[] = [];
  const snapshotTemps: string[] = [];
  let hasCurrent = false;
  for (const e of entries) {
    const name = e.name;
    // Only regular files can be segments; a directory that happens to have a segment's name is
    // reported like any other stray entry instead of failing the read with EISDIR.
    const m = e.isFile() ? SEALED_SEGMENT.exec(name) : null;
    if (m) sealed.push({ name, number: Number(m[1]) });
    else if (name === CURRENT_SEGMENT && e.isFile()) hasCurrent = true;
    else if (MARK_FILES.test(name) && e.isFile()) continue;
    else if (SNAPSHOT_FILE.test(name) && e.isFile()) snapshots.push(name);
    else if (SNAPSHOT_TEMP.test(name) && e.isFile()) snapshotTemps.push(name);
    else if (name !== QUARANTINE_DIR || !e.isDirectory()) stray.push(name);
  }
  sealed.sort((a, b) => a.number - b.number);
  const segments: Segment[] = hasCurrent ? [...sealed, { name: CURRENT_SEGMENT, number: null }] : sealed;
  snapshots.sort();
  return { segments, snapshots, snapshotTemps, stray };
}

/**
 * Seals orders_current.wal as segment `number` (it must end with the Rotation record naming that
 * number). The rename is durable once the caller syncs the directory.
 */
export async function sealCurrentSegment(dir: string, number: number): Promise<string> {
  const name = sealedSegmentName(number);
  await rename(join(dir, CURRENT_SEGMENT), join(dir, name));
  return name;
}

/** Makes the directory's entries (creations, renames) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
