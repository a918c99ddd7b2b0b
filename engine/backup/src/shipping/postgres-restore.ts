// `veloz restore --from postgres://...`: rebuilds a WAL directory from the shipped records, from
// the newest checkpoint at or before the target on. Records are re-encoded byte for byte and
// must reproduce the CRC they were shipped with; sequences must be contiguous but for a declared
// sequence jump (ADR 0012), and the records it skipped are left out.
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { RestoreResult, Target } from '../restore.ts';
import { RecordType } from '@veloz/wal/format';
import { decodeSequenceJump } from '@veloz/wal/payloads';
import { SegmentRebuilder } from '@veloz/wal/rebuild';
import { newWalId, writeMark } from '@veloz/wal/mark';
import { verifyWal } from '@veloz/wal/recovery';
import { fsyncDir } from '@veloz/wal/segments';
import { quoteIdent, tableName } from './schema.ts';

export class PostgresRestoreError extends Error {}

export interface PostgresRestoreOptions {
  uri: string;
  deployment: string;
  pair: number;
  to: string;
  target: Target;
  log?: (msg: string) => void;
}

interface Row {
  seq: string;
  ts: string;
  type: number;
  crc: string;
  payload: Buffer;
}

/** The URI without its password, for messages. */
function redact(uri: string): string {
  try {
    const u = new URL(uri);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}

export async function restoreFromPostgres(opts: PostgresRestoreOptions): Promise<RestoreResult> {
  const table = tableName(opts.deployment);
  const t = quoteIdent(table);
  const where = `${redact(opts.uri)} table ${table} pair ${opts.pair}`;
  const client = new pg.Client({ connectionString: opts.uri, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  const staging = join(opts.to, `.veloz-restore-${process.pid}`);
  try {
    const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [table]);
    if (!exists.rows[0]?.t) throw new PostgresRestoreError(`${where}: no such table (nothing was shipped)`);
    const range = await client.query<{ min: string | null; max: string | null }>(
      `SELECT min(seq)::text AS min, max(seq)::text AS max FROM ${t} WHERE pair = $1`,
      [opts.pair],
    );
    if (range.rows[0]?.max == null) throw new PostgresRestoreError(`${where}: no records`);
    const max = Number(range.rows[0].max);
    let last = max;
    if (opts.target.upToSequence !== undefined) {
      if (opts.target.upToSequence > max) {
        throw new PostgresRestoreError(
          `${where}: holds sequences up to ${max}, not ${opts.target.upToSequence}`,
        );
      }
      last = opts.target.upToSequence;
    } else if (opts.target.upToTime !== undefined) {
      const r = await client.query<{ s: string | null }>(
        `SELECT min(seq)::text AS s FROM ${t} WHERE pair = $1 AND ts > $2`,
        [opts.pair, opts.target.upToTime],
      );
      if (r.rows[0]?.s != null) last = Number(r.rows[0].s) - 1;
    }
    // Declared sequence jumps up to the target: the table may still hold the records a jump
    // skipped (shipped before the WAL lost them). They belong to a history the log abandoned at
    // the jump, so the rebuilt log leaves them out, as the WAL did.
    const jumpRows = await client.query<{ seq: string; payload: Buffer }>(
      `SELECT seq::text AS seq, payload FROM ${t} WHERE pair = $1 AND type = $2 AND seq <= $3 ORDER BY seq`,
      [opts.pair, RecordType.SequenceJump, last],
    );
    const jumps = jumpRows.rows.map((r) => ({
      seq: Number(r.seq),
      previous: decodeSequenceJump(r.payload).previous,
    }));
    const abandoned = (seq: number): boolean => jumps.some((j) => seq > j.previous && seq < j.seq);
    const cps = await client.query<{ s: string }>(
      `SELECT seq::text AS s FROM ${t} WHERE pair = $1 AND type = $2 AND seq <= $3 ORDER BY seq DESC LIMIT 100`,
      [opts.pair, RecordType.Checkpoint, last],
    );
    const cp = cps.rows.map((r) => Number(r.s)).find((seq) => !abandoned(seq));
    const start = cp ?? Number(range.rows[0].min);
    if (last < 1 || (cp === undefined && start !== 1)) {
      throw new PostgresRestoreError(`${where}: no checkpoint at or before sequence ${last} to start from`);
    }
    opts.log?.(`rebuilding sequences ${start}-${last} from ${where}`);

    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    const rebuilt = await SegmentRebuilder.create(staging);
    let expect = start;
    /** Where the next query starts: past the abandoned rows too. */
    let cursor = start;
    let lastTs: number | null = null;
    try {
      while (cursor <= last) {
        const r = await client.query<Row>(
          `SELECT seq::text AS seq, ts::text AS ts, type, crc::text AS crc, payload FROM ${t}
           WHERE pair = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq LIMIT 5000`,
          [opts.pair, cursor, last],
        );
        if (r.rows.length === 0)
          throw new PostgresRestoreError(`${where}: sequence ${expect} is missing (gap)`);
        for (const row of r.rows) {
          const seq = Number(row.seq);
          cursor = seq + 1;
          if (abandoned(seq)) continue;
          const declared = jumps.some((j) => j.seq === seq && j.previous === expect - 1);
          if (seq !== expect && !declared) {
            throw new PostgresRestoreError(`${where}: sequence ${expect} is missing (gap)`);
          }
          const record = {
            seq,
            timestamp: Number(row.ts),
            type: row.type as RecordType,
            crc: Number(row.crc),
            payload: row.payload,
          };
          if (!rebuilt.add(record)) {
            throw new PostgresRestoreError(
              `${where}: record ${seq} does not match its checksum (damaged row)`,
            );
          }
          expect = seq + 1;
          lastTs = Number(row.ts);
        }
        await rebuilt.flush();
      }
      await rebuilt.finish();
    } finally {
      await rebuilt.close();
    }
    const report = await verifyWal(staging);
    if (!report.healthy || report.lastSequence !== last) {
      throw new PostgresRestoreError(`the rebuilt WAL does not verify: ${report.problems.join('; ')}`);
    }
    // PostgreSQL does not keep the WAL id: the rebuilt WAL gets a new one (the next backup to a
    // store holding the old one's backups needs --force), and a mark for every rebuilt record.
    await writeMark(staging, { walId: newWalId(), durableSequence: last });
    const files = (await readdir(staging)).sort();
    for (const f of files) await rename(join(staging, f), join(opts.to, f));
    await fsyncDir(opts.to);
    return {
      source: where,
      backup: null,
      lastSequence: last,
      lastTimestamp: lastTs,
      files,
      bytes: rebuilt.bytes,
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
    await client.end().catch(() => undefined);
  }
}
