// Reads one segment's bytes and says what is in it, without changing anything.
import { decodeRecordAt, HEADER_SIZE, MAGIC, RecordType, type RawRecord } from './format.ts';
import { decodeRotation } from './payloads.ts';

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
  /** Offset just past the last valid record. */
  validEnd: number;
  problem: SegmentProblem | null;
  /** Records that failed their checksum or framing. */
  corruptRecords: number;
  /** Offset of the last Checkpoint record, if any. */
  lastCheckpointOffset: number | null;
  lastCheckpointSeq: number | null;
  /** Segment number named by a Rotation record that ends the segment. */
  rotation: number | null;
  /** Offset of that Rotation record. */
  rotationOffset: number | null;
}

/** Whether some valid record starts at or after `from` (8-byte aligned scan for the magic). */
function validRecordAfter(buf: Buffer, from: number, minSeq: number): boolean {
  for (let off = (from + 8) & ~7; off + HEADER_SIZE <= buf.length; off += 8) {
    if (buf.readUInt32LE(off + 28) !== MAGIC) continue;
    const d = decodeRecordAt(buf, off);
    if (d.ok && d.record.seq >= minSeq) return true;
  }
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
    validEnd: 0,
    problem: null,
    corruptRecords: 0,
    lastCheckpointOffset: null,
    lastCheckpointSeq: null,
    rotation: null,
    rotationOffset: null,
  };
  let off = 0;
  while (off < buf.length) {
    const d = decodeRecordAt(buf, off);
    if (!d.ok) {
      // Zero bytes after the last record are what a torn or preallocated tail looks like.
      const after = validRecordAfter(buf, off, (scan.lastSeq ?? 0) + 1);
      const torn = !sealed && !after;
      // What is damage counts as a corrupt record, a record cut short included; the torn tail of
      // an interrupted write is counted in bytes instead (tornTailBytes), not as corruption.
      if (!torn) scan.corruptRecords += 1;
      scan.problem = {
        offset: off,
        reason: d.reason,
        kind: torn ? 'torn-tail' : 'corrupt',
      };
      break;
    }
    const r = d.record;
    if (scan.lastSeq !== null && r.seq !== scan.lastSeq + 1) {
      scan.corruptRecords += 1;
      scan.problem = {
        offset: off,
        reason: `sequence ${r.seq} follows ${scan.lastSeq}`,
        kind: 'corrupt',
      };
      break;
    }
    if (scan.rotation !== null) {
      scan.problem = { offset: off, reason: 'record after a rotation record', kind: 'corrupt' };
      scan.corruptRecords += 1;
      break;
    }
    let rotation: number | null = null;
    if (r.type === RecordType.Rotation) {
      try {
        rotation = decodeRotation(r.payload).sealedSegment;
      } catch (err) {
        // A checksummed but malformed rotation record is damage, not a reason to crash.
        scan.corruptRecords += 1;
        const why = err instanceof Error ? err.message : String(err);
        scan.problem = { offset: off, reason: `bad rotation record: ${why}`, kind: 'corrupt' };
        break;
      }
    }
    scan.firstSeq ??= r.seq;
    scan.lastSeq = r.seq;
    scan.entries += 1;
    if (r.type === RecordType.Checkpoint) {
      scan.lastCheckpointOffset = off;
      scan.lastCheckpointSeq = r.seq;
    } else if (rotation !== null) {
      scan.rotation = rotation;
      scan.rotationOffset = off;
    }
    onRecord?.(r);
    off += r.size;
    scan.validEnd = off;
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
