// The WAL snapshot stream of GET /api/wal/backup (a tar whose first entry indexes the rest): the
// names and shapes both the engine that sends it and `veloz backup` that reads it rely on.
import type { FileHandle } from 'node:fs/promises';
import { firstRecordHeader } from './reader.ts';

export const SNAPSHOT_FORMAT = 'veloz-wal-snapshot/1';
export const SNAPSHOT_INDEX = 'backup.json';

export interface SnapshotFile {
  name: string;
  size: number;
  /** `<first sequence>.<CRC32C of the first record, hex>`; null for an empty file. */
  id: string | null;
  firstSequence: number | null;
  /** Bytes before this offset are not in the stream (the caller has them). */
  sendFrom: number;
  /**
   * A checkpoint file (checkpoint_<sequence>.json) a CheckpointRef record of the segments names,
   * not a segment: its id is `<sequence>.<CRC32C of the whole file>`. Absent for segments.
   */
  checkpoint?: true;
}

/** Which engine and which WAL a snapshot (and a backup made of it) comes from. */
export interface EngineIdentity {
  deployment: string;
  pair: number;
  /** Made once with the WAL (wal.json); a restore carries it over. */
  walId: string;
}

export interface SnapshotIndex {
  format: string;
  sequence: number;
  createdAt: number;
  files: SnapshotFile[];
  /** Absent from engines older than identities. */
  identity?: EngineIdentity;
}

/** Parses `have` (`id:length,...`); ids that do not parse are ignored (sent in full). */
export function parseHave(raw: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of (raw ?? '').split(',')) {
    const m = /^(\d+\.[0-9a-f]{8}):(\d+)$/.exec(part.trim());
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

function segmentId(firstSequence: number, crc: number): string {
  return `${firstSequence}.${crc.toString(16).padStart(8, '0')}`;
}

/**
 * What names a segment file in a snapshot of `size` bytes of it: its first record's sequence and
 * CRC (stable while the file grows, different for another history). Null until it holds a record
 * header. The id names bytes, it does not vouch for them: the receiver verifies every record.
 */
export async function segmentIdOf(
  file: FileHandle,
  size: number,
): Promise<{ id: string; firstSequence: number } | null> {
  const head = await firstRecordHeader(file, size);
  return head && { id: segmentId(head.seq, head.crc), firstSequence: head.seq };
}
