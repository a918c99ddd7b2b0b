// The declared sequence jump (ADR 0012): after truncate_at_corruption accepts a loss, the log must
// not write the lost sequence numbers again (they may be in quarantine/, in a backup, in
// PostgreSQL or in a client's hands). Recovery appends one SequenceJump record that names the
// last record kept and carries a sequence above every one the WAL ever held; readers accept
// exactly that gap and still refuse any other.
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RecordType, encodeRecord } from './framing.ts';
import { encodeSequenceJump } from './payloads.ts';
import { scanForRecords } from './reader.ts';
import { CURRENT_SEGMENT, QUARANTINE_DIR } from './segments.ts';
import type { SequenceJump } from './scan.ts';

/** The highest sequence of any valid record in a file under quarantine/ (0 when there is none). */
export async function highestQuarantined(dir: string): Promise<number> {
  const qdir = join(dir, QUARANTINE_DIR);
  let names: string[];
  try {
    names = await readdir(qdir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let highest = 0;
  for (const name of names) {
    // Files there are whole segments or cut-off bytes, read once per start that lost records.
    for (const r of scanForRecords(await readFile(join(qdir, name)))) highest = Math.max(highest, r.seq);
  }
  return highest;
}

/**
 * Appends the SequenceJump record after `previous` (the last record kept) at `position` of the
 * current segment, durably, carrying `highest + 1`. Returns the jump and the record's size.
 */
export async function appendJump(
  dir: string,
  position: number,
  previous: number,
  highest: number,
  timestamp: number,
): Promise<{ jump: SequenceJump; size: number }> {
  const seq = highest + 1;
  const reason =
    `truncate_at_corruption: records after ${previous} were lost (the WAL held sequences up to ${highest}); ` +
    `continuing at ${seq} so that no sequence number is written twice`;
  const buf = encodeRecord(seq, timestamp, RecordType.SequenceJump, encodeSequenceJump({ previous, reason }));
  const fh = await open(join(dir, CURRENT_SEGMENT), 'r+');
  try {
    await fh.write(buf, 0, buf.length, position);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { jump: { previous, seq, lost: seq - previous - 1 }, size: buf.length };
}
