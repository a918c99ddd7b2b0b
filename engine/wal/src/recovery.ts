// Opening a WAL directory after a crash: verify every segment, repair what an interrupted write
// leaves behind, refuse (or, when told to, quarantine) real corruption, and replay from the
// newest checkpoint. Nothing is ever deleted here: cut-off bytes go to quarantine/.
import { mkdir, open, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CURRENT_SEGMENT,
  HEADER_SIZE,
  RECORD_TYPE_NAMES,
  RecordType,
  SEALED_SEGMENT,
  alignedSize,
  readU64,
  sealedSegmentName,
  type RawRecord,
} from './format.ts';
import { scanSegment, type SegmentScan } from './scan.ts';

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

export interface ReplayHandler {
  /** `timestamp`: when the checkpoint was written (ms since the epoch, from its record header). */
  onCheckpoint(seq: number, payload: Buffer, timestamp: number): void;
  onRecord(record: RawRecord): void;
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
}

interface Kept {
  name: string;
  buf: Buffer;
  start: number;
  end: number;
}

interface DirListing {
  sealed: Array<{ name: string; number: number }>;
  hasCurrent: boolean;
  stray: string[];
}

async function listDir(dir: string): Promise<DirListing> {
  const entries = await readdir(dir, { withFileTypes: true });
  const sealed: DirListing['sealed'] = [];
  const stray: string[] = [];
  let hasCurrent = false;
  for (const e of entries) {
    const name = e.name;
    // Only regular files can be segments; a directory that happens to have a segment's name is
    // reported like any other stray entry instead of failing the read with EISDIR.
    const m = e.isFile() ? SEALED_SEGMENT.exec(name) : null;
    if (m) sealed.push({ name, number: Number(m[1]) });
    else if (name === CURRENT_SEGMENT && e.isFile()) hasCurrent = true;
    else if (name !== 'quarantine' || !e.isDirectory()) stray.push(name);
  }
  sealed.sort((a, b) => a.number - b.number);
  return { sealed, hasCurrent, stray };
}

async function writeDurable(path: string, data: Buffer): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
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
  const listing = await listDir(dir);
  const report = emptyReport(dir, listing.stray);
  const files = [
    ...listing.sealed.map((s) => ({ name: s.name, number: s.number })),
    ...(listing.hasCurrent ? [{ name: CURRENT_SEGMENT, number: null }] : []),
  ];
  let prevLast: number | null = null;
  for (const f of files) {
    const buf = await readFile(join(dir, f.name));
    const scan = scanSegment(buf, f.name, f.number, onRecord && ((r) => onRecord(f.name, r)));
    report.segments.push(scan);
    absorb(report, scan, prevLast);
    if (scan.lastSeq !== null) prevLast = scan.lastSeq;
  }
  if (report.entries > 0 && report.checkpointSequence === null && report.firstSequence !== 1) {
    report.problems.push(
      `log starts at sequence ${report.firstSequence} with no checkpoint: earlier segments are missing`,
    );
  }
  report.healthy = report.problems.length === 0;
  return report;
}

function absorb(report: WalReport, scan: SegmentScan, prevLast: number | null): void {
  report.entries += scan.entries;
  report.corruptRecords += scan.corruptRecords;
  if (scan.firstSeq !== null) {
    report.firstSequence ??= scan.firstSeq;
    if (prevLast !== null && scan.firstSeq !== prevLast + 1) {
      report.problems.push(
        `${scan.name}: starts at sequence ${scan.firstSeq}, expected ${prevLast + 1} (segment missing)`,
      );
    }
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

const STRICT_HINT =
  'Refusing to start: acknowledged orders may be in or after the damaged record. Restore the WAL from a backup, ' +
  'or set VELOZ_WAL_RECOVERY_MODE=truncate_at_corruption to recover up to the damage (the rest is moved to quarantine/)';

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
  const listing = await listDir(dir);
  const report = emptyReport(dir, listing.stray);
  let kept: Kept[] = [];
  let prevLast: number | null = null;
  let maxSealed = listing.sealed.at(-1)?.number ?? 0;
  const quarantineDir = join(dir, 'quarantine');
  const quarantine = async (name: string, data?: Buffer): Promise<string> => {
    await mkdir(quarantineDir, { recursive: true });
    // Never overwrite an earlier quarantined file (same clock reading, or a clock set back).
    let target = join(quarantineDir, `${now()}-${name}`);
    for (let i = 1; await exists(target); i++) target = join(quarantineDir, `${now()}-${i}-${name}`);
    if (data) await writeDurable(target, data);
    else await rename(join(dir, name), target);
    await fsyncDir(quarantineDir);
    report.actions.push(`moved ${data ? 'bytes of ' : ''}${name} to ${target}`);
    return target;
  };

  const files = [
    ...listing.sealed.map((s) => ({ name: s.name, number: s.number })),
    ...(listing.hasCurrent ? [{ name: CURRENT_SEGMENT, number: null }] : []),
  ];
  let currentSize = 0;
  let currentExists = listing.hasCurrent;
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    const buf = await readFile(join(dir, f.name));
    const scan = scanSegment(buf, f.name, f.number);
    report.segments.push(scan);
    const gap = scan.firstSeq !== null && prevLast !== null && scan.firstSeq !== prevLast + 1;
    absorb(report, scan, prevLast);
    const corruptAt = gap ? 0 : scan.problem?.kind === 'corrupt' ? scan.problem.offset : null;
    if (corruptAt !== null) {
      const reason = gap
        ? `starts at sequence ${scan.firstSeq}, expected ${prevLast! + 1}`
        : scan.problem!.reason;
      if (mode === 'strict') throw new WalCorruptionError(join(dir, f.name), corruptAt, reason, STRICT_HINT);
      // Keep the valid prefix; everything from the damage on is set aside.
      let prefix = buf.subarray(0, corruptAt);
      let prefixScan = scanSegment(prefix, CURRENT_SEGMENT, null);
      for (const later of files.slice(i)) await quarantine(later.name);
      if (f.number !== null) {
        maxSealed = listing.sealed.filter((s) => s.number < f.number).at(-1)?.number ?? 0;
      }
      let keptAs = CURRENT_SEGMENT;
      if (prefixScan.rotation !== null && prefixScan.rotation > maxSealed) {
        // The prefix is a whole segment, rotation record included: keep it sealed, as if an
        // interrupted rotation were being finished, so the writer never appends after it.
        keptAs = sealedSegmentName(prefixScan.rotation);
        maxSealed = prefixScan.rotation;
        await writeDurable(join(dir, keptAs), prefix);
        await writeDurable(join(dir, CURRENT_SEGMENT), Buffer.alloc(0));
        currentSize = 0;
      } else {
        if (prefixScan.rotationOffset !== null) {
          // Its name is taken, so the rotation record (which carries no data; the original
          // file is in quarantine/) is left out instead.
          prefix = prefix.subarray(0, prefixScan.rotationOffset);
          prefixScan = scanSegment(prefix, CURRENT_SEGMENT, null);
        }
        await writeDurable(join(dir, CURRENT_SEGMENT), prefix);
        currentSize = prefix.length;
      }
      await fsyncDir(dir);
      report.actions.push(`recovered ${f.name} up to offset ${corruptAt} (${reason}) as ${keptAs}`);
      kept = keep(kept, keptAs, prefix, prefixScan);
      report.lastSequence = prefixScan.lastSeq ?? prevLast ?? 0;
      currentExists = true;
      break;
    }
    if (f.number === null) {
      currentSize = scan.validEnd;
      if (scan.problem?.kind === 'torn-tail') {
        await quarantine(`torn-tail-after-${scan.lastSeq ?? prevLast ?? 0}.bin`, buf.subarray(scan.validEnd));
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
      await rename(join(dir, CURRENT_SEGMENT), join(dir, sealedSegmentName(scan.rotation)));
      await fsyncDir(dir);
      report.actions.push(
        `sealed ${CURRENT_SEGMENT} as ${sealedSegmentName(scan.rotation)} (interrupted rotation)`,
      );
      for (const k of kept) if (k.name === CURRENT_SEGMENT) k.name = sealedSegmentName(scan.rotation);
      maxSealed = Math.max(maxSealed, scan.rotation);
      currentSize = 0;
      currentExists = false;
    }
  }
  const first = kept[0];
  if (
    first &&
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
  let lastTimestamp = 0;
  let replayedEntries = 0;
  for (const k of kept) {
    for (let off = k.start; off < k.end;) {
      const len = k.buf.readUInt32LE(off);
      const seq = readU64(k.buf, off + 8);
      const type = k.buf.readUInt8(off + 24) as RecordType;
      lastTimestamp = readU64(k.buf, off + 16);
      const payload = k.buf.subarray(off + HEADER_SIZE, off + HEADER_SIZE + len);
      try {
        if (type === RecordType.Checkpoint) handler.onCheckpoint(seq, payload, lastTimestamp);
        else if (type !== RecordType.Rotation) {
          handler.onRecord({
            seq,
            timestamp: lastTimestamp,
            type,
            payload,
            offset: off,
            size: alignedSize(len),
          });
        }
      } catch (err) {
        // The record passed its checksum, yet cannot be decoded or applied: say where it is.
        throw new WalCorruptionError(
          join(dir, k.name),
          off,
          `record ${seq} (${RECORD_TYPE_NAMES[type] ?? type}) cannot be replayed: ${err instanceof Error ? err.message : String(err)}`,
          REPLAY_HINT,
          { cause: err },
        );
      }
      replayedEntries += 1;
      off += alignedSize(len);
    }
  }
  report.healthy = report.problems.length === 0;
  if (!currentExists && currentSize === 0) {
    await writeFile(join(dir, CURRENT_SEGMENT), Buffer.alloc(0), { flag: 'a' });
    await fsyncDir(dir);
  }
  return {
    report,
    lastSequence: report.lastSequence,
    lastTimestamp,
    nextSealedNumber: maxSealed + 1,
    sealedSegments: (await listDir(dir)).sealed.map((s) => s.name),
    currentSize,
    needsCheckpoint: currentSize === 0 && maxSealed > 0,
    replayedEntries,
  };
}

/** Keeps only the segments needed to replay from the newest checkpoint. */
function keep(kept: Kept[], name: string, buf: Buffer, scan: SegmentScan): Kept[] {
  if (scan.lastCheckpointOffset !== null)
    return [{ name, buf, start: scan.lastCheckpointOffset, end: scan.validEnd }];
  kept.push({ name, buf, start: 0, end: Math.min(scan.validEnd, buf.length) });
  return kept;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
