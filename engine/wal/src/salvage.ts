// truncate_at_corruption: rearranges a damaged WAL directory into a valid log that ends as late as
// the surviving records allow. The log is cut into runs (stretches of records that follow each
// other), runs are joined into chains across clean segment ends, and the chain that reaches the
// highest sequence from a checkpoint (or from sequence 1) is kept. So a deleted middle segment, or
// a flipped byte in a sealed segment, costs nothing when a newer segment starts with a checkpoint,
// and damage in the current segment costs only the records between it and the next checkpoint.
// Nothing is deleted: what is not kept goes to quarantine/ whole.
import { mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RecordType, isCheckpoint } from './framing.ts';
import { decodeRotation } from './payloads.ts';
import { bufferReader, jumpPrevious, scanForRecords } from './reader.ts';
import {
  CURRENT_SEGMENT,
  QUARANTINE_DIR,
  fsyncDir,
  listSegments,
  sealedSegmentName,
  type Segment,
} from './segments.ts';

/** Records that follow each other inside one segment. */
export interface Run {
  /** Index of the segment in the listing. */
  segment: number;
  start: number;
  end: number;
  firstSeq: number;
  lastSeq: number;
  /** The sequence the run's first record follows: firstSeq - 1, or what a declared jump names. */
  follows: number;
  /** Sequence and offset of the newest checkpoint in the run. */
  checkpoint: { seq: number; offset: number } | null;
  /** The run's last record is a Rotation record naming this sealed segment number. */
  rotation: number | null;
  /** Nothing but the end of the file follows the run. */
  cleanEnd: boolean;
}

/** Every run of a segment's bytes, in file order (damage between them is skipped). */
export function runsOf(buf: Buffer, segment: number): Run[] {
  const runs: Run[] = [];
  let from = 0;
  while (from < buf.length) {
    const reader = bufferReader(buf.subarray(from), { offset: from });
    let run: Run | null = null;
    let resync: number | null = null;
    for (let r = reader.next(); r !== null; r = reader.next()) {
      let rotation: number | null = null;
      if (r.type === RecordType.Rotation) {
        try {
          rotation = decodeRotation(r.payload).sealedSegment;
        } catch {
          // A checksummed but malformed rotation record ends the run like any damage.
          resync = r.offset + 1;
          break;
        }
      }
      run ??= {
        segment,
        start: r.offset,
        end: r.offset,
        firstSeq: r.seq,
        lastSeq: r.seq,
        follows: (r.type === RecordType.SequenceJump ? jumpPrevious(r) : null) ?? r.seq - 1,
        checkpoint: null,
        rotation: null,
        cleanEnd: false,
      };
      run.lastSeq = r.seq;
      run.end = r.offset + r.size;
      run.rotation = rotation;
      if (isCheckpoint(r.type)) run.checkpoint = { seq: r.seq, offset: r.offset };
    }
    const stop = reader.stop;
    if (run) {
      run.cleanEnd = resync === null && stop?.kind === 'end';
      runs.push(run);
    }
    if (resync === null) {
      if (!stop || stop.kind === 'end') break;
      // A valid record that does not follow its predecessor starts a run of its own; one after
      // a rotation record (which ends its segment) is damage.
      resync = stop.kind === 'sequence' ? stop.offset : stop.offset + 1;
    }
    const next = scanForRecords(buf, resync).next();
    if (next.done) break;
    from = next.value.offset;
  }
  return runs;
}

/** Runs joined where one segment ends cleanly with its rotation record and the next follows it. */
export function chainsOf(segments: Segment[], runs: Run[][]): Run[][] {
  const chains: Run[][] = [];
  let open: Run[] | null = null;
  for (let i = 0; i < runs.length; i++) {
    const segRuns = runs[i]!;
    for (let j = 0; j < segRuns.length; j++) {
      const run = segRuns[j]!;
      const prev = open?.at(-1);
      const joins =
        prev !== undefined &&
        j === 0 &&
        run.start === 0 &&
        prev.segment === i - 1 &&
        prev.cleanEnd &&
        prev.rotation !== null &&
        segments[i - 1]!.number !== null &&
        run.follows === prev.lastSeq;
      if (joins) open!.push(run);
      else chains.push((open = [run]));
    }
  }
  return chains;
}

function newestCheckpoint(chain: Run[]): { run: number; seq: number; offset: number } | null {
  for (let k = chain.length - 1; k >= 0; k--) {
    const c = chain[k]!.checkpoint;
    if (c) return { run: k, ...c };
  }
  return null;
}

/** The chain to recover from: a checkpoint or sequence 1 to start from, reaching furthest. */
export function chooseChain(chains: Run[][]): Run[] | null {
  let best: Run[] | null = null;
  for (const chain of chains) {
    const head = chain[0]!;
    const replayable =
      newestCheckpoint(chain) !== null || (head.segment === 0 && head.start === 0 && head.firstSeq === 1);
    if (replayable && (best === null || chain.at(-1)!.lastSeq > best.at(-1)!.lastSeq)) best = chain;
  }
  return best;
}

export interface SalvageResult {
  /** Sequence of the last record kept. */
  keptUpTo: number;
  /** The highest sequence of any valid record in the directory before the salvage. */
  highestSeen: number;
  actions: string[];
}

export class Quarantine {
  readonly actions: string[] = [];
  private readonly dir: string;
  private readonly now: () => number;

  constructor(walDir: string, now: () => number) {
    this.dir = walDir;
    this.now = now;
  }

  /** Moves `name` out of the WAL directory, or, with `data`, stores those bytes under its name. */
  async put(name: string, data?: Buffer): Promise<string> {
    const qdir = join(this.dir, QUARANTINE_DIR);
    await mkdir(qdir, { recursive: true });
    // Never overwrite an earlier quarantined file (same clock reading, or a clock set back).
    let target = join(qdir, `${this.now()}-${name}`);
    for (let i = 1; await exists(target); i++) target = join(qdir, `${this.now()}-${i}-${name}`);
    if (data) await writeDurable(target, data);
    else await rename(join(this.dir, name), target);
    await fsyncDir(qdir);
    this.actions.push(`moved ${data ? 'bytes of ' : ''}${name} to ${target}`);
    return target;
  }
}

/**
 * Makes `dir` a valid log holding the best chain (see chooseChain); everything else goes to
 * quarantine/. Returns null when no chain can be replayed (the caller refuses to start).
 */
export async function salvage(dir: string, now: () => number): Promise<SalvageResult | null> {
  const { segments } = await listSegments(dir);
  const bufs = await Promise.all(segments.map((s) => readFile(join(dir, s.name))));
  const runs = bufs.map((b, i) => runsOf(b, i));
  const chain = chooseChain(chainsOf(segments, runs));
  if (chain === null) return null;
  let highestSeen = 0;
  for (const segRuns of runs) for (const run of segRuns) highestSeen = Math.max(highestSeen, run.lastSeq);
  const q = new Quarantine(dir, now);
  const ckpt = newestCheckpoint(chain);
  // Where the kept log starts: the chain's start when that is a segment's start; otherwise (the
  // chain starts after damage) the first later segment of the chain, or the checkpoint itself.
  let head = chain[0]!;
  let from = head.start;
  if (from !== 0) {
    if (ckpt && ckpt.run > 0) head = chain[1]!;
    from = head.start === 0 ? 0 : ckpt!.offset;
  }
  const last = chain.at(-1)!;
  const first = head.segment;
  for (let i = 0; i < first; i++) await q.put(segments[i]!.name);
  for (let i = last.segment + 1; i < segments.length; i++) await q.put(segments[i]!.name);
  const lastSeg = segments[last.segment]!;
  const lastBuf = bufs[last.segment]!;
  if (first === last.segment && (from > 0 || last.end < lastBuf.length)) {
    await rewrite(dir, q, lastSeg, lastBuf.subarray(from, last.end), last.rotation);
  } else {
    if (from > 0) {
      const s = segments[first]!;
      await q.put(s.name);
      await writeDurable(join(dir, s.name), bufs[first]!.subarray(from));
      q.actions.push(`kept ${s.name} from offset ${from}`);
    }
    if (last.end < lastBuf.length)
      await rewrite(dir, q, lastSeg, lastBuf.subarray(0, last.end), last.rotation);
  }
  await fsyncDir(dir);
  return { keptUpTo: last.lastSeq, highestSeen, actions: q.actions };
}

/**
 * Replaces `seg` with `kept`, its valid part: a sealed segment stays sealed when the part ends
 * with its rotation record; otherwise the part becomes the segment the writer appends to.
 */
async function rewrite(
  dir: string,
  q: Quarantine,
  seg: Segment,
  kept: Buffer,
  rotation: number | null,
): Promise<void> {
  await q.put(seg.name);
  let name = CURRENT_SEGMENT;
  if (rotation !== null && rotation === seg.number) name = seg.name;
  else if (rotation !== null && (await exists(join(dir, sealedSegmentName(rotation))))) {
    // The rotation would seal it under a taken name: the rotation record (which carries no data;
    // the original file is in quarantine/) is left out instead.
    let lastOffset = 0;
    const reader = bufferReader(kept);
    for (let r = reader.next(); r !== null; r = reader.next()) lastOffset = r.offset;
    kept = kept.subarray(0, lastOffset);
  }
  await writeDurable(join(dir, name), kept);
  q.actions.push(`kept ${kept.length} bytes of ${seg.name} as ${name}`);
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

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
