// `veloz wal verify|inspect DIR`: offline checks of a WAL directory (read-only).
import { stat } from 'node:fs/promises';
import { RECORD_TYPE_NAMES, RecordType } from './framing.ts';
import {
  decodeOrderRecord,
  decodeRotation,
  decodeSequenceJump,
  decodeStrategyHalt,
  decodeTradingHalt,
} from './payloads.ts';
import { verifyWal } from './recovery.ts';
import { decodeCheckpointRef } from './snapshot-file.ts';
import { parse, UsageError } from '@veloz/common/args';

export const WAL_HELP = `Usage: veloz wal verify DIR
       veloz wal inspect DIR [--from SEQ] [--limit N]

verify   checks every record of every segment and prints a JSON summary (segments, entries,
         last sequence, corrupt records, torn-tail bytes, the WAL id and high-water mark of
         wal.json, sequenceJumps). Records the mark says were durable but the log no longer
         holds are a problem, and so is any gap in the sequence numbers but a declared jump (the
         record truncate_at_corruption writes after accepting a loss: "after" N, "continuesAt" M,
         "lost" M-N-1 numbers never written again). Every checkpoint file (checkpoint_<sequence>.json)
         a CheckpointRef record names must be there with the size and CRC32C the record states;
         one no record names is listed under strayFiles. Exit code: 0 healthy, 1 corrupt or records missing, 3 only a torn tail (an
         interrupted write; the engine repairs it on start), 2 usage.
inspect  prints one JSON line per record (sequence, time, type, segment, offset, payload).

Neither command changes anything in DIR.`;

async function requireDir(dir: string | undefined): Promise<string> {
  if (!dir) throw new UsageError('missing DIR');
  const s = await stat(dir).catch(() => null);
  if (!s?.isDirectory()) throw new UsageError(`${dir} is not a directory`);
  return dir;
}

export async function walCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    console.log(WAL_HELP);
    return sub ? 0 : 2;
  }
  if (sub === 'verify') {
    const { positionals, values } = parse(rest, { help: { type: 'boolean', short: 'h' } }, true);
    if (values.help) {
      console.log(WAL_HELP);
      return 0;
    }
    const dir = await requireDir(positionals[0]);
    const r = await verifyWal(dir);
    const summary = {
      dir,
      healthy: r.healthy && r.tornTailBytes === 0,
      segments: r.segments.map((s) => ({
        name: s.name,
        bytes: s.size,
        entries: s.entries,
        firstSequence: s.firstSeq,
        lastSequence: s.lastSeq,
        problem: s.problem,
      })),
      entries: r.entries,
      firstSequence: r.firstSequence,
      lastSequence: r.lastSequence,
      checkpointSequence: r.checkpointSequence,
      // Gaps a truncate_at_corruption start declared after accepting a loss: not problems, since
      // each names the record it follows (an undeclared gap is one).
      sequenceJumps: r.jumps.map((j) => ({
        segment: j.segment,
        after: j.previous,
        continuesAt: j.seq,
        lost: j.lost,
      })),
      // null: a WAL directory from before wal.json (the engine creates it on its next start).
      walId: r.mark?.walId ?? null,
      durableMark: r.mark?.durableSequence ?? null,
      corruptRecords: r.corruptRecords,
      tornTailBytes: r.tornTailBytes,
      problems: r.problems,
      strayFiles: r.strayFiles,
    };
    console.log(JSON.stringify(summary, null, 2));
    return !r.healthy ? 1 : r.tornTailBytes > 0 ? 3 : 0;
  }
  if (sub === 'inspect') {
    const { positionals, values } = parse(
      rest,
      { from: { type: 'string' }, limit: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      true,
    );
    if (values.help) {
      console.log(WAL_HELP);
      return 0;
    }
    const dir = await requireDir(positionals[0]);
    const from = values.from === undefined ? 0 : Number(values.from);
    const limit = values.limit === undefined ? Infinity : Number(values.limit);
    if (!Number.isInteger(from) || from < 0) throw new UsageError('--from must be a non-negative integer');
    if (limit !== Infinity && (!Number.isInteger(limit) || limit < 1))
      throw new UsageError('--limit must be a positive integer');
    let printed = 0;
    const r = await verifyWal(dir, (segment, rec) => {
      if (rec.seq < from || printed >= limit) return;
      printed += 1;
      let payload: unknown;
      if (rec.type === RecordType.Checkpoint) payload = { bytes: rec.payload.length };
      else if (rec.type === RecordType.Rotation) payload = decodeRotation(rec.payload);
      else if (rec.type === RecordType.CheckpointRef) {
        const { fields, ...ref } = decodeCheckpointRef(rec.payload);
        payload = { ...ref, fields: Object.keys(fields) };
      } else if (rec.type === RecordType.SequenceJump) payload = decodeSequenceJump(rec.payload);
      else {
        try {
          payload =
            rec.type === RecordType.TradingHalt
              ? decodeTradingHalt(rec.payload)
              : rec.type === RecordType.StrategyHalt
                ? decodeStrategyHalt(rec.payload)
                : decodeOrderRecord(rec.type, rec.payload).data;
        } catch (err) {
          // A record can pass its checksum and still not decode (a bug that wrote it, a forged file):
          // show it rather than stop the listing.
          payload = { error: err instanceof Error ? err.message : String(err), bytes: rec.payload.length };
        }
      }
      process.stdout.write(
        `${JSON.stringify({ sequence: rec.seq, time: new Date(rec.timestamp).toISOString(), type: RECORD_TYPE_NAMES[rec.type], segment, offset: rec.offset, payload })}\n`,
      );
    });
    return r.healthy ? 0 : 1;
  }
  throw new UsageError(`unknown wal subcommand "${sub}"`);
}
