// Opening a WAL directory after a crash: verify every segment, repair what an interrupted write
// leaves behind, refuse (or, when told to, quarantine) real corruption, and replay from the
// newest checkpoint. No record is ever deleted here: cut-off bytes go to quarantine/ (only
// checkpoint files no record references are deleted: a crash interrupted their write).
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RECORD_TYPE_NAMES, RecordType, type RawRecord } from './framing.ts';
import { bufferReader, type RecordView } from './reader.ts';
import { appendJump, highestQuarantined } from './jump.ts';
import { scanSegment, type SegmentScan, type SequenceJump } from './scan.ts';
import { missingRecords, newWalId, readMark, writeMark, type WalMark } from './mark.ts';
import { Quarantine, salvage } from './salvage.ts';
import {
  SnapshotFileError,
  decodeCheckpointRef,
  readSnapshotFile,
  removeIfPresent,
  resolvedPayload,
  type WrittenSnapshot,
} from './snapshot-file.ts';
import {
  CURRENT_SEGMENT,
  MARK_FILE,
  QUARANTINE_DIR,
  fsyncDir,
  listSegments,
  sealCurrentSegment,
} from './segments.ts';

export type RecoveryMode = 'strict' | 'truncate_at_corruption';

export class WalCorruptionError extends Error {
  readonly file: string;
  readonly offset: number;

  constructor(file: string, offset: number, reason: string, hint: string, options?: ErrorOptions) {
    super(`WAL corruption in ${file} at offset ${offset}: ${reason}. ${hint}`, options);
    this.file = file;
    this.offset = offset;
  }
}

/** Acknowledged records are gone from the end of the log (its high-water mark says so). */
export class WalDataLossError extends Error {}

export interface ReplayHandler {
  /** `timestamp`: when the checkpoint was written (ms since the epoch, from its record header). */
  onCheckpoint(seq: number, payload: Buffer, timestamp: number): void;
  /**
   * `record` is valid during the call only (it is the reader, standing on the record: no object
   * per record on replay); recordOf() (reader.ts) copies it.
   */
  onRecord(record: RecordView): void;
}

export interface WalReport {
  dir: string;
  healthy: boolean;
  segments: SegmentScan[];
  entries: number;
  firstSequence: number | null;
  lastSequence: number;
  corruptRecords: number;
  tornTailBytes: number;
  checkpointSequence: number | null;
  /** Declared sequence jumps (gaps a truncate_at_corruption start accepted), oldest first. */
  jumps: Array<SequenceJump & { segment: string }>;
  /** The side file's high-water mark and WAL id; null for a WAL made before side files. */
  mark: WalMark | null;
  problems: string[];
  strayFiles: string[];
  actions: string[];
}

export interface Recovered {
  report: WalReport;
  lastSequence: number;
  lastTimestamp: number;
  nextSealedNumber: number;
  /** Sealed segment file names after repair, oldest first. */
  sealedSegments: string[];
  /** Size of orders_current.wal after repair (0 when it does not exist yet). */
  currentSize: number;
  /** The segment to write next must begin with a checkpoint (older segments exist). */
  needsCheckpoint: boolean;
  replayedEntries: number;
  /** The WAL's side file as recovery left it (see mark.ts). */
  mark: WalMark;
  /** The sequence jump this start declared (truncate_at_corruption after a loss), or null. */
  jump: SequenceJump | null;
  /** Checkpoint files the segments reference, with the segment holding the reference. */
  snapshotFiles: Array<{ segment: string } & WrittenSnapshot>;
}

interface Kept {
  name: string;
  buf: Buffer;
  start: number;
  end: number;
}

function emptyReport(dir: string, stray: string[]): WalReport {
  return {
    dir,
    healthy: true,
    segments: [],
    entries: 0,
    firstSequence: null,
    lastSequence: 0,
    corruptRecords: 0,
    tornTailBytes: 0,
    checkpointSequence: null,
    jumps: [],
    mark: null,
    problems: [],
    strayFiles: stray,
    actions: [],
  };
}

/** Read-only verification of every segment (for `veloz wal verify`), reporting all problems. */
export async function verifyWal(
  dir: string,
  onRecord?: (seg: string, r: RawRecord) => void,
): Promise<WalReport> {
  const { segments: files, snapshots, snapshotTemps, stray } = await listSegments(dir);
  const report = emptyReport(dir, stray);
  let prevLast: number | null = null;
  const referenced = new Set<string>();
  for (const f of files) {
    const buf = await readFile(join(dir, f.name));
    const scan = scanSegment(buf, f.name, f.number, onRecord && ((r) => onRecord(f.name, r)));
    report.segments.push(scan);
    absorb(report, scan, prevLast);
    if (scan.lastSeq !== null) prevLast = scan.lastSeq;
    for (const ref of scan.snapshots) {
      referenced.add(ref.file);
      try {
        await readSnapshotFile(dir, ref);
      } catch (err) {
        report.problems.push(`${f.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  // Not part of the log: a snapshot whose reference was never appended (or is being appended).
  for (const name of [...snapshots, ...snapshotTemps])
    if (!referenced.has(name)) report.strayFiles.push(name);
  if (report.entries > 0 && report.checkpointSequence === null && report.firstSequence !== 1) {
    report.problems.push(
      `log starts at sequence ${report.firstSequence} with no checkpoint: earlier segments are missing`,
    );
  }
  try {
    report.mark = await readMark(dir);
    const missing = missingRecords(report.mark, report.lastSequence);
    if (missing) report.problems.push(missing);
  } catch (err) {
    report.problems.push(err instanceof Error ? err.message : String(err));
  }
  report.healthy = report.problems.length === 0;
  return report;
}

/** Why `scan` does not continue a log that ended at `prevLast`, or null when it does. */
function segmentGap(scan: SegmentScan, prevLast: number | null): string | null {
  if (scan.firstSeq === null || prevLast === null || scan.follows === prevLast) return null;
  return scan.follows === scan.firstSeq - 1
    ? `starts at sequence ${scan.firstSeq}, expected ${prevLast + 1}`
    : `starts with a sequence jump to ${scan.firstSeq} that follows ${scan.follows}, but the log before it ends at ${prevLast}`;
}

function absorb(report: WalReport, scan: SegmentScan, prevLast: number | null): void {
  report.entries += scan.entries;
  report.corruptRecords += scan.corruptRecords;
  for (const j of scan.jumps) report.jumps.push({ ...j, segment: scan.name });
  if (scan.firstSeq !== null) {
    report.firstSequence ??= scan.firstSeq;
    const gap = segmentGap(scan, prevLast);
    if (gap !== null) report.problems.push(`${scan.name}: ${gap} (segment missing)`);
  }
  if (scan.lastSeq !== null) report.lastSequence = scan.lastSeq;
  if (scan.lastCheckpointSeq !== null) report.checkpointSequence = scan.lastCheckpointSeq;
  if (scan.problem?.kind === 'torn-tail') {
    report.tornTailBytes += scan.size - scan.problem.offset;
  } else if (scan.problem) {
    report.problems.push(`${scan.name}: offset ${scan.problem.offset}: ${scan.problem.reason}`);
  }
}

const REPLAY_HINT =
  'Refusing to start: the log does not describe a valid history of orders (a tampered log or a bug). ' +
  'Restore the WAL from a backup';

const SNAPSHOT_HINT =
  'Refusing to start: the newest checkpoint is kept in that file, beside the segments, and the log before it may be gone. ' +
  'Put the file back from a backup, or restore the WAL from a backup';

const STRICT_HINT =
  'Refusing to start: acknowledged orders may be in or after the damaged record. Restore the WAL from a backup, ' +
  'or set VELOZ_WAL_RECOVERY_MODE=truncate_at_corruption to recover from the newest intact checkpoint through every valid record after it (the rest is moved to quarantine/)';

const LOSS_HINT =
  'Refusing to start: those orders were acknowledged. Restore the WAL from a backup (or from PostgreSQL shipping), ' +
  'or set VELOZ_WAL_RECOVERY_MODE=truncate_at_corruption to accept the loss';

/**
 * Recovers `dir` for writing: repairs a torn tail, finishes an interrupted rotation, handles
 * corruption per `mode`, and replays from the newest checkpoint through `handler`.
 */
export async function recoverWal(
  dir: string,
  mode: RecoveryMode,
  handler: ReplayHandler,
  now: () => number = Date.now,
): Promise<Recovered> {
  await mkdir(dir, { recursive: true });
  let pass: Pass;
  /** The highest sequence a salvage saw before it moved records away (0: none ran). */
  let salvagedHighest = 0;
  try {
    pass = await repairPass(dir, now);
  } catch (err) {
    if (mode === 'strict' || !(err instanceof WalCorruptionError)) throw err;
    // What the damaged log looked like, for the report: the salvage changes it.
    const damaged = await verifyWal(dir);
    const salvaged = await salvage(dir, now);
    if (salvaged === null) throw err;
    salvagedHighest = salvaged.highestSeen;
    pass = await repairPass(dir, now);
    const r = pass.report;
    r.problems = [...damaged.problems, ...r.problems];
    r.corruptRecords += damaged.corruptRecords;
    r.actions = [...salvaged.actions, `recovered up to sequence ${salvaged.keptUpTo}`, ...r.actions];
  }
  const { report, kept } = pass;
  const found = await readMark(dir);
  report.mark = found;
  const missing = missingRecords(found, report.lastSequence);
  if (missing !== null) {
    if (mode === 'strict') throw new WalDataLossError(`WAL ${dir}: ${missing}. ${LOSS_HINT}`);
    report.problems.push(missing);
    report.actions.push(`accepted the loss of records after ${report.lastSequence} (truncate_at_corruption)`);
  }
  let lastType: RecordType | null = null;
  let lastTimestamp = 0;
  let replayedEntries = 0;
  for (const k of kept) {
    // Read again from the newest checkpoint (holding every record of the scan would cost memory);
    // the scan checked these very bytes.
    const reader = bufferReader(k.buf.subarray(k.start, k.end), { offset: k.start, verified: true });
    const r = reader;
    while (reader.advance()) {
      lastType = r.type;
      lastTimestamp = r.timestamp;
      try {
        if (r.type === RecordType.Checkpoint) handler.onCheckpoint(r.seq, r.payload, r.timestamp);
        else if (r.type === RecordType.CheckpointRef) {
          const ref = decodeCheckpointRef(r.payload);
          handler.onCheckpoint(r.seq, resolvedPayload(ref, await readSnapshotFile(dir, ref)), r.timestamp);
        } else if (r.type !== RecordType.Rotation && r.type !== RecordType.SequenceJump) handler.onRecord(r);
      } catch (err) {
        // The record passed its checksum, yet cannot be decoded or applied: say where it is.
        throw new WalCorruptionError(
          join(dir, k.name),
          r.offset,
          `record ${r.seq} (${RECORD_TYPE_NAMES[r.type] ?? r.type}) cannot be replayed: ${err instanceof Error ? err.message : String(err)}`,
          err instanceof SnapshotFileError ? SNAPSHOT_HINT : REPLAY_HINT,
          { cause: err },
        );
      }
      replayedEntries += 1;
    }
    if (reader.stop?.kind !== 'end') {
      throw new Error(`${join(dir, k.name)} changed between its scan and its replay: ${reader.stop?.reason}`);
    }
  }
  report.healthy = report.problems.length === 0;
  if (!pass.currentExists && pass.currentSize === 0) {
    await writeFile(join(dir, CURRENT_SEGMENT), Buffer.alloc(0), { flag: 'a' });
    await fsyncDir(dir);
  }
  // A log that ends with a declared jump (one an earlier start wrote, then stopped before any
  // append) still owes the checkpoint that follows it.
  let needsCheckpoint =
    (pass.currentSize === 0 && pass.maxSealed > 0) || lastType === RecordType.SequenceJump;
  let currentSize = pass.currentSize;
  let jump: SequenceJump | null = null;
  if (mode === 'truncate_at_corruption' && (salvagedHighest > 0 || missing !== null)) {
    // Lost sequence numbers are never written again: continue above every one the WAL held.
    const highest = Math.max(found?.durableSequence ?? 0, salvagedHighest, await highestQuarantined(dir));
    if (highest > report.lastSequence) {
      lastTimestamp = Math.max(now(), lastTimestamp);
      const added = await appendJump(dir, currentSize, report.lastSequence, highest, lastTimestamp);
      jump = added.jump;
      currentSize += added.size;
      report.lastSequence = jump.seq;
      report.entries += 1;
      report.jumps.push({ ...jump, segment: CURRENT_SEGMENT });
      report.actions.push(
        `declared a sequence jump: the log continues at ${jump.seq} after record ${jump.previous} ` +
          `(${jump.lost} sequence numbers lost or in ${QUARANTINE_DIR}/ are never written again)`,
      );
      // The first record after the jump is a checkpoint, so that reading from it needs nothing
      // before the gap.
      needsCheckpoint = true;
    }
  }
  let mark = found;
  if (mark === null || mark.durableSequence !== report.lastSequence) {
    // What a crashed process wrote may still be in the page cache only: sync it before the mark
    // vouches for it.
    await syncFile(join(dir, CURRENT_SEGMENT));
    mark = await writeMark(
      dir,
      { walId: found?.walId ?? newWalId(), durableSequence: report.lastSequence },
      now,
    );
    if (found === null && report.lastSequence > 0) {
      report.actions.push(
        `created ${MARK_FILE} (WAL id ${mark.walId}) for a WAL directory made before it: whether records were lost before this start cannot be checked`,
      );
    }
  }
  const snapshotFiles = await dropUnreferencedSnapshots(dir, pass, report);
  return {
    report,
    lastSequence: report.lastSequence,
    lastTimestamp,
    nextSealedNumber: pass.maxSealed + 1,
    sealedSegments: (await listSegments(dir)).segments.filter((s) => s.number !== null).map((s) => s.name),
    currentSize,
    needsCheckpoint,
    replayedEntries,
    mark,
    jump,
    snapshotFiles,
  };
}

/**
 * Deletes checkpoint files no record names (a crash between a snapshot's write and its
 * reference, or a temp file of an unfinished write): nothing can read them. Returns the rest.
 */
async function dropUnreferencedSnapshots(
  dir: string,
  pass: Pass,
  report: WalReport,
): Promise<Array<{ segment: string } & WrittenSnapshot>> {
  const refs = pass.report.segments.flatMap((scan) =>
    scan.snapshots.map((ref) => ({
      segment: scan.name === CURRENT_SEGMENT ? (pass.currentSealedAs ?? CURRENT_SEGMENT) : scan.name,
      file: ref.file,
      size: ref.size,
      crc32c: ref.crc32c,
    })),
  );
  const referenced = new Set(refs.map((r) => r.file));
  const { snapshots, snapshotTemps } = await listSegments(dir);
  for (const name of [...snapshots, ...snapshotTemps]) {
    if (referenced.has(name)) continue;
    await removeIfPresent(join(dir, name));
    report.actions.push(`deleted ${name}: no record references it (a checkpoint write a crash interrupted)`);
  }
  return refs;
}

async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

interface Pass {
  report: WalReport;
  kept: Kept[];
  currentSize: number;
  currentExists: boolean;
  maxSealed: number;
  /** What orders_current.wal was sealed as when recovery finished its interrupted rotation. */
  currentSealedAs: string | null;
}

/**
 * Scans every segment, repairs what a crash leaves behind (a torn tail, an interrupted rotation)
 * and refuses anything else with the file and offset of the damage.
 */
async function repairPass(dir: string, now: () => number): Promise<Pass> {
  const { segments: files, stray } = await listSegments(dir);
  const report = emptyReport(dir, stray);
  const q = new Quarantine(dir, now);
  report.actions = q.actions;
  let kept: Kept[] = [];
  let prevLast: number | null = null;
  let maxSealed = files.flatMap((s) => (s.number === null ? [] : [s.number])).at(-1) ?? 0;
  let currentSize = 0;
  let currentExists = files.at(-1)?.number === null;
  let currentSealedAs: string | null = null;
  for (const f of files) {
    const buf = await readFile(join(dir, f.name));
    const scan = scanSegment(buf, f.name, f.number);
    report.segments.push(scan);
    const gap = segmentGap(scan, prevLast);
    absorb(report, scan, prevLast);
    const corruptAt = gap !== null ? 0 : scan.problem?.kind === 'corrupt' ? scan.problem.offset : null;
    if (corruptAt !== null) {
      const reason = gap ?? scan.problem!.reason;
      throw new WalCorruptionError(join(dir, f.name), corruptAt, reason, STRICT_HINT);
    }
    if (f.number === null) {
      currentSize = scan.validEnd;
      if (scan.problem?.kind === 'torn-tail') {
        await q.put(`torn-tail-after-${scan.lastSeq ?? prevLast ?? 0}.bin`, buf.subarray(scan.validEnd));
        const fh = await open(join(dir, CURRENT_SEGMENT), 'r+');
        try {
          await fh.truncate(scan.validEnd);
          await fh.sync();
        } finally {
          await fh.close();
        }
        report.actions.push(
          `truncated torn tail of ${scan.size - scan.validEnd} bytes from ${CURRENT_SEGMENT}`,
        );
      }
    }
    kept = keep(kept, f.name, buf.subarray(0, scan.validEnd), scan);
    if (scan.lastSeq !== null) prevLast = scan.lastSeq;
    if (f.number === null && scan.rotation !== null) {
      // The process died between the rotation record and the rename: finish the rotation.
      const sealedAs = await sealCurrentSegment(dir, scan.rotation);
      await fsyncDir(dir);
      report.actions.push(`sealed ${CURRENT_SEGMENT} as ${sealedAs} (interrupted rotation)`);
      for (const k of kept) if (k.name === CURRENT_SEGMENT) k.name = sealedAs;
      currentSealedAs = sealedAs;
      maxSealed = Math.max(maxSealed, scan.rotation);
      currentSize = 0;
      currentExists = false;
    }
  }
  if (
    kept.length > 0 &&
    report.checkpointSequence === null &&
    report.firstSequence !== null &&
    report.firstSequence !== 1
  ) {
    throw new WalCorruptionError(
      join(dir, report.segments[0]!.name),
      0,
      `log starts at sequence ${report.firstSequence} with no checkpoint (earlier segments are missing)`,
      STRICT_HINT,
    );
  }
  return { report, kept, currentSize, currentExists, maxSealed, currentSealedAs };
}

/** Keeps only the segments needed to replay from the newest checkpoint. */
function keep(kept: Kept[], name: string, buf: Buffer, scan: SegmentScan): Kept[] {
  if (scan.lastCheckpointOffset !== null)
    return [{ name, buf, start: scan.lastCheckpointOffset, end: scan.validEnd }];
  kept.push({ name, buf, start: 0, end: Math.min(scan.validEnd, buf.length) });
  return kept;
}
