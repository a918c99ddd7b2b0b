// A checkpoint kept in its own file beside the segments (ADR 0019, second step): the background
// checkpoint writes the state to `checkpoint_<sequence>.json` (temp file, fdatasync, rename,
// directory fsync) while orders keep being acknowledged, and only then appends a small
// CheckpointRef record naming the file, its size and CRC32C, plus members to add to the JSON
// object (the engine's tail of records appended during the build). Readers resolve a reference
// into the payload an inline Checkpoint record would have carried, so replay handlers, salvage
// and shipping see one kind of checkpoint.
import { crc32c } from '@node-rs/crc32';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { RecordType, encodeRecord, encodedCrc } from './framing.ts';
import { SNAPSHOT_FILE, fsyncDir, snapshotFileName } from './segments.ts';

/** The payload of a CheckpointRef record (JSON). */
export interface CheckpointRefPayload {
  /** The snapshot file's name in the WAL directory. */
  file: string;
  /** The record the snapshot was captured after. */
  sequence: number;
  size: number;
  crc32c: number;
  /** Members added to the snapshot's JSON object when it is resolved (e.g. `tail`). */
  fields: Record<string, unknown>;
}

export class SnapshotFileError extends Error {}

export function encodeCheckpointRef(p: CheckpointRefPayload): Buffer {
  return Buffer.from(JSON.stringify(p));
}

export function decodeCheckpointRef(payload: Buffer): CheckpointRefPayload {
  let v: unknown;
  try {
    v = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new SnapshotFileError(`checkpoint reference is not JSON: ${(err as Error).message}`);
  }
  const p = v as Partial<CheckpointRefPayload> | null;
  if (
    typeof p !== 'object' ||
    p === null ||
    typeof p.file !== 'string' ||
    !SNAPSHOT_FILE.test(p.file) ||
    !Number.isSafeInteger(p.sequence) ||
    !Number.isSafeInteger(p.size) ||
    !Number.isInteger(p.crc32c) ||
    typeof p.fields !== 'object' ||
    p.fields === null ||
    Array.isArray(p.fields)
  ) {
    throw new SnapshotFileError(
      'checkpoint reference needs file (checkpoint_<16 digits>.json), sequence, size, crc32c and fields',
    );
  }
  return p as CheckpointRefPayload;
}

export interface WrittenSnapshot {
  file: string;
  size: number;
  crc32c: number;
}

/**
 * What names a checkpoint file in a backup snapshot, in the form of a segment id (snapshot-format.ts):
 * `<sequence>.<CRC32C hex>`. Its bytes never change.
 */
export function checkpointFileId(w: WrittenSnapshot): string {
  const seq = Number(SNAPSHOT_FILE.exec(w.file)![1]);
  return `${seq}.${(w.crc32c >>> 0).toString(16).padStart(8, '0')}`;
}

/** Steps of writing a snapshot file, for crash tests (WalHooks.onCheckpointStep). */
export type SnapshotStep = 'snapshot-written' | 'snapshot-synced' | 'snapshot-renamed';

/**
 * Writes `bytes` as the snapshot of `sequence`: temp file, fdatasync, rename, directory fsync.
 * Once this resolves the file is durable under its final name; a crash before leaves at most a
 * temp file or an unreferenced snapshot, which recovery deletes.
 */
export async function writeSnapshotFile(
  dir: string,
  sequence: number,
  bytes: Buffer,
  opts: {
    /** false: no fdatasync (a WAL written with VELOZ_WAL_SYNC=false, tests). */
    sync?: boolean;
    onStep?: (step: SnapshotStep, file: string) => void | Promise<void>;
  } = {},
): Promise<WrittenSnapshot> {
  const { sync = true, onStep } = opts;
  const file = snapshotFileName(sequence);
  const temp = join(dir, `${file}.tmp`);
  const fh = await open(temp, 'w');
  try {
    let off = 0;
    while (off < bytes.length) off += (await fh.write(bytes, off, bytes.length - off, off)).bytesWritten;
    await onStep?.('snapshot-written', file);
    if (sync) await fh.datasync();
  } catch (err) {
    await fh.close();
    await removeIfPresent(temp);
    throw err;
  }
  await fh.close();
  await onStep?.('snapshot-synced', file);
  await rename(temp, join(dir, file));
  if (sync) await fsyncDir(dir);
  await onStep?.('snapshot-renamed', file);
  return { file, size: bytes.length, crc32c: crc32c(bytes) };
}

/** Deletes `path`; already gone is what the caller wanted. */
export async function removeIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** The snapshot file's bytes, checked against the reference's size and CRC32C. */
export async function readSnapshotFile(dir: string, ref: CheckpointRefPayload): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, ref.file));
  } catch (err) {
    throw new SnapshotFileError(`checkpoint file ${ref.file} cannot be read: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return checkSnapshot(ref, bytes);
}

/** `bytes` if they are the snapshot `ref` names, else an error naming the difference. */
export function checkSnapshot(ref: CheckpointRefPayload, bytes: Buffer): Buffer {
  if (bytes.length !== ref.size)
    throw new SnapshotFileError(
      `checkpoint file ${ref.file} has ${bytes.length} bytes, its record says ${ref.size}`,
    );
  const crc = crc32c(bytes);
  if (crc !== ref.crc32c)
    throw new SnapshotFileError(
      `checkpoint file ${ref.file} fails its CRC32C (${crc}, its record says ${ref.crc32c})`,
    );
  return bytes;
}

/** The payload an inline Checkpoint record would carry: the snapshot with the reference's fields. */
export function resolvedPayload(ref: CheckpointRefPayload, snapshot: Buffer): Buffer {
  const members = JSON.stringify(ref.fields).slice(1, -1);
  if (members === '') return snapshot;
  if (snapshot[0] !== 0x7b) throw new SnapshotFileError(`checkpoint file ${ref.file} is not a JSON object`);
  let i = 1;
  while (i < snapshot.length && (snapshot[i] === 0x20 || snapshot[i] === 0x0a || snapshot[i] === 0x09)) i++;
  const empty = snapshot[i] === 0x7d;
  return Buffer.concat([Buffer.from(`{${members}${empty ? '' : ','}`), snapshot.subarray(1)]);
}

/** Reads, checks and resolves the snapshot a CheckpointRef record's `payload` names. */
export async function resolveCheckpointRef(dir: string, payload: Buffer): Promise<Buffer> {
  const ref = decodeCheckpointRef(payload);
  return resolvedPayload(ref, await readSnapshotFile(dir, ref));
}

/**
 * A CheckpointRef record as the Checkpoint record it stands for: its resolved payload and the
 * CRC32C that record carries. Shipping sends this form, so PostgreSQL (and a WAL rebuilt from it)
 * needs no file beside the rows.
 */
export async function inlineCheckpointRecord(
  dir: string,
  r: { seq: number; timestamp: number; payload: Buffer },
): Promise<{ type: RecordType; payload: Buffer; crc: number }> {
  const payload = await resolveCheckpointRef(dir, r.payload);
  const crc = encodedCrc(encodeRecord(r.seq, r.timestamp, RecordType.Checkpoint, payload));
  return { type: RecordType.Checkpoint, payload, crc };
}
