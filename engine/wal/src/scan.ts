// Reads one segment's bytes and says what is in it, without changing anything.
import { RecordType, isCheckpoint, type RawRecord } from './framing.ts';
import { decodeRotation } from './payloads.ts';
import { decodeCheckpointRef, type CheckpointRefPayload } from './snapshot-file.ts';
import { bufferReader, jumpPrevious, recordOf, scanForRecords } from './reader.ts';

/** A declared gap in the log: the records after `previous` and before `seq` are gone. */
export interface SequenceJump {
  /** The record the jump follows. */
  previous: number;
  /** The SequenceJump record's own sequence; the log continues from it. */
  seq: number;
  /** Sequences skipped: seq - previous - 1. */
  lost: number;
}

export interface SegmentProblem {
  offset: number;
  reason: string;
  /** torn-tail: nothing valid follows (an interrupted write); corrupt: damage inside the log. */
  kind: 'torn-tail' | 'corrupt';
}

export interface SegmentScan {
  name: string;
  /** Sealed segment number; null for the current segment. */
  number: number | null;
  size: number;
  entries: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** The sequence the first record follows: firstSeq - 1, or what a leading jump names. */
  follows: number | null;
  /** Declared jumps in the segment, in order. */
  jumps: SequenceJump[];
  /** Offset just past the last valid record. */
  validEnd: number;
  problem: SegmentProblem | null;
  /** Records that failed their checksum or framing. */
  corruptRecords: number;
  /** Checkpoint files the segment's CheckpointRef records name, in order. */
  snapshots: CheckpointRefPayload[];
  /** Offset of the last Checkpoint or CheckpointRef record, if any. */
  lastCheckpointOffset: number | null;
  lastCheckpointSeq: number | null;
  /** Segment number named by a Rotation record that ends the segment. */
  rotation: number | null;
  /** Offset of that Rotation record. */
  rotationOffset: number | null;
}

/** Whether a valid record that could continue the log starts after the damage at `from`. */
function validRecordAfter(buf: Buffer, from: number, minSeq: number): boolean {
  for (const r of scanForRecords(buf, from + 1)) if (r.seq >= minSeq) return true;
  return false;
}

export function scanSegment(
  buf: Buffer,
  name: string,
  number: number | null,
  onRecord?: (r: RawRecord) => void,
): SegmentScan {
  const sealed = number !== null;
  const scan: SegmentScan = {
    name,
    number,
    size: buf.length,
    entries: 0,
    firstSeq: null,
    lastSeq: null,
    follows: null,
    jumps: [],
    validEnd: 0,
    problem: null,
    corruptRecords: 0,
    snapshots: [],
    lastCheckpointOffset: null,
    lastCheckpointSeq: null,
    rotation: null,
    rotationOffset: null,
  };
  const reader = bufferReader(buf);
  // The reader is the record it stands on (no object per record): this runs for every record of
  // every segment at each start.
  const r = reader;
  while (reader.advance()) {
    let rotation: number | null = null;
    if (r.type === RecordType.Rotation) {
      try {
        rotation = decodeRotation(r.payload).sealedSegment;
      } catch (err) {
        // A checksummed but malformed rotation record is damage, not a reason to crash.
        scan.corruptRecords += 1;
        const why = err instanceof Error ? err.message : String(err);
        scan.problem = { offset: r.offset, reason: `bad rotation record: ${why}`, kind: 'corrupt' };
        break;
      }
    } else if (r.type === RecordType.CheckpointRef) {
      try {
        scan.snapshots.push(decodeCheckpointRef(r.payload));
      } catch (err) {
        scan.corruptRecords += 1;
        const why = err instanceof Error ? err.message : String(err);
        scan.problem = { offset: r.offset, reason: `bad checkpoint reference: ${why}`, kind: 'corrupt' };
        break;
      }
    }
    // The reader accepted the record, so a jump in it is readable and skips ahead.
    const jumpedFrom = r.type === RecordType.SequenceJump ? jumpPrevious(r)! : null;
    if (jumpedFrom !== null)
      scan.jumps.push({ previous: jumpedFrom, seq: r.seq, lost: r.seq - jumpedFrom - 1 });
    if (scan.firstSeq === null) {
      scan.firstSeq = r.seq;
      scan.follows = jumpedFrom ?? r.seq - 1;
    }
    scan.lastSeq = r.seq;
    scan.entries += 1;
    if (isCheckpoint(r.type)) {
      scan.lastCheckpointOffset = r.offset;
      scan.lastCheckpointSeq = r.seq;
    } else if (rotation !== null) {
      scan.rotation = rotation;
      scan.rotationOffset = r.offset;
    }
    if (onRecord) onRecord(recordOf(r));
    scan.validEnd = r.offset + r.size;
  }
  const stop = reader.stop;
  if (scan.problem === null && stop !== null && stop.kind !== 'end') {
    // A record that is valid but does not follow is damage wherever it is. Bytes that are not a
    // record are a torn tail when they end the current segment with nothing valid after them:
    // zeros or a cut-off record are what an interrupted (or preallocated) write leaves behind.
    const framing = stop.kind !== 'sequence' && stop.kind !== 'after-rotation' && stop.kind !== 'bad-jump';
    const torn = framing && !sealed && !validRecordAfter(buf, stop.offset, (scan.lastSeq ?? 0) + 1);
    // What is damage counts as a corrupt record, a record cut short included; the torn tail of
    // an interrupted write is counted in bytes instead (tornTailBytes), not as corruption.
    if (!torn) scan.corruptRecords += 1;
    scan.problem = { offset: stop.offset, reason: stop.reason, kind: torn ? 'torn-tail' : 'corrupt' };
  }
  if (sealed && scan.problem === null && buf.length === 0) {
    // The writer only seals segments that end with a rotation record, so an empty one was
    // not made by it (and would otherwise push the next segment number around unnoticed).
    scan.problem = { offset: 0, reason: 'sealed segment is empty', kind: 'corrupt' };
  }
  if (sealed && scan.problem === null && scan.entries > 0 && scan.rotation === null) {
    scan.problem = {
      offset: scan.validEnd,
      reason: 'sealed segment does not end with a rotation record (truncated?)',
      kind: 'corrupt',
    };
  }
  return scan;
}
