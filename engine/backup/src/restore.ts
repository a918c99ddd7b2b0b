// `veloz restore`: picks the backup that holds the requested point (the newest state, a sequence
// or a time), verifies every byte of it (part checksums, record checksums, contiguous
// sequences), and writes a WAL directory the engine replays on start. The directory is built
// beside the target and moved in only once it verifies.
import { crc32c } from '@node-rs/crc32';
import { mkdir, open, readdir, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RecordType, isCheckpoint } from '@veloz/wal/format';
import { firstRecordHeader } from '@veloz/wal/reader';
import { newWalId, writeMark } from '@veloz/wal/mark';
import { CURRENT_SEGMENT, SNAPSHOT_FILE, fsyncDir, listSegments } from '@veloz/wal/segments';
import {
  listPair,
  pairDir,
  readManifest,
  type BackupRef,
  type Manifest,
  type ManifestSegment,
} from './manifest.ts';
import { joinKey, type Store } from './store.ts';
import { FileSink } from './sink.ts';
import { ReadBack } from './readback.ts';
import { BackupVerifyError, RecordVerifier, crcHex } from './verify.ts';

export class RestoreError extends Error {}

export interface Target {
  upToSequence?: number;
  /** ms since the epoch */
  upToTime?: number;
}

export interface RestoreResult {
  source: string;
  backup: string | null;
  lastSequence: number;
  lastTimestamp: number | null;
  files: string[];
  bytes: number;
}

/** Where in a store one pair's backups are: `--from` may name the root, a deployment or a pair. */
export async function locate(store: Store, deployment: string, pair: number): Promise<string> {
  const tried: string[] = [];
  for (const base of [pairDir(deployment, pair), String(pair), '']) {
    tried.push(`${store.location.replace(/\/$/, '')}/${base}`);
    if ((await listPair(store, base)).complete.length > 0) return base;
  }
  throw new RestoreError(
    `no complete backup of deployment ${deployment} pair ${pair}; looked in ${tried.join(', ')}`,
  );
}

/** The backup to restore from for `target`, and the last sequence to keep (null: all of it). */
export function choose(backups: BackupRef[], target: Target): { ref: BackupRef; cut: Target | null } {
  const usable = backups.filter((b) => b.manifest.lastSequence !== null);
  if (usable.length === 0) throw new RestoreError('the backups hold no records');
  const newest = usable.at(-1)!;
  if (target.upToSequence !== undefined) {
    const s = target.upToSequence;
    const holding = usable.filter((b) => b.manifest.firstSequence! <= s && s <= b.manifest.lastSequence!);
    if (holding.length === 0) {
      const range = usable.map((b) => `${b.manifest.firstSequence}-${b.manifest.lastSequence}`).join(', ');
      throw new RestoreError(`no backup holds sequence ${s} (backups hold ${range})`);
    }
    // The earliest backup that reaches the target has the least to cut off.
    const ref = holding[0]!;
    return { ref, cut: ref.manifest.lastSequence === s ? null : { upToSequence: s } };
  }
  if (target.upToTime !== undefined) {
    const t = target.upToTime;
    const reaching = usable.filter((b) => b.manifest.lastTimestamp! >= t);
    const first = reaching[0];
    if (first && first.manifest.firstTimestamp! <= t) return { ref: first, cut: { upToTime: t } };
    // Every backup ends before the target: the newest one at or before it, whole.
    const before = usable.filter((b) => b.manifest.lastTimestamp! < t).at(-1);
    if (before) return { ref: before, cut: null };
    throw new RestoreError(`no backup holds records at or before ${new Date(t).toISOString()}`);
  }
  return { ref: newest, cut: null };
}

async function stagingDir(to: string): Promise<string> {
  const dir = join(to, `.veloz-restore-${process.pid}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Moves the verified files from staging into the target and removes staging. */
async function commit(staging: string, to: string): Promise<string[]> {
  const files = (await readdir(staging)).sort();
  for (const f of files) await rename(join(staging, f), join(to, f));
  await fsyncDir(to);
  await rm(staging, { recursive: true, force: true });
  return files;
}

/**
 * Every file was checked record by record and against the previous one while it was written;
 * what is left is where the log starts: with a checkpoint, or at sequence 1.
 */
async function checkMaterialised(
  dir: string,
  expectLast: number,
  lastSeq: number,
  partial: boolean,
): Promise<void> {
  if (lastSeq !== expectLast) {
    throw new RestoreError(`the restored WAL ends at sequence ${lastSeq}, expected ${expectLast}`);
  }
  // From the newest checkpoint on, the first segment may open with records before it: the
  // replay starts at the checkpoint, which the manifest says is there (recovery checks it is).
  if (partial) return;
  const first = (await listSegments(dir)).segments[0];
  if (!first) throw new RestoreError('nothing was restored');
  const fh = await open(join(dir, first.name), 'r');
  try {
    const head = await firstRecordHeader(fh);
    // A segment may start with a declared sequence jump, which the checkpoint follows.
    const startsState = isCheckpoint(head?.type ?? 0) || head?.type === RecordType.SequenceJump;
    if (!startsState && head?.seq !== 1) {
      throw new RestoreError(`the restored WAL starts at sequence ${head?.seq ?? 0} without a checkpoint`);
    }
  } finally {
    await fh.close();
  }
}

/** A stored part that cannot be read: the backup is damaged. */
function missing(backup: string, where: string, err: unknown): RestoreError {
  return new RestoreError(
    `backup ${backup} is damaged: ${where} is missing (${err instanceof Error ? err.message : String(err)})`,
  );
}

/**
 * Puts one stored part at the end of `path`; the first creates it (never over an existing file).
 * A volume copies in the kernel; other stores stream the bytes. Nothing is checked here: the
 * caller reads the file back.
 */
async function placePart(
  store: Store,
  backup: string,
  key: string,
  path: string,
  first: boolean,
): Promise<void> {
  const where = `${store.location}/${key}`;
  let body: AsyncIterable<Buffer>;
  try {
    if (first && store.copyOut) {
      await store.copyOut(key, path);
      return;
    }
    body = await store.read(key);
  } catch (err) {
    if (first && store.copyOut && (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw missing(backup, where, err);
  }
  const fh = await open(path, first ? 'wx' : 'a');
  try {
    const sink = new FileSink(fh);
    try {
      for await (const c of body) await sink.push(c);
    } finally {
      // Never leave a write running on a handle about to be closed.
      await sink.end().catch(() => undefined);
    }
    await sink.end();
  } finally {
    await fh.close();
  }
}

/**
 * Reads `path` back from `start` (the part just placed there) and returns how many bytes follow
 * `start` and their CRC32C; `each` sees the same bytes.
 */
async function readPart(
  path: string,
  start: number,
  rb: ReadBack,
  each: (c: Buffer) => void,
  pending: () => number,
): Promise<{ got: number; crc: string }> {
  const fh = await open(path, 'r');
  try {
    let crc = 0;
    const got = await rb.read(
      fh,
      start,
      (c) => {
        crc = crc32c(c, crc);
        each(c);
      },
      pending,
    );
    return { got, crc: crcHex(crc) };
  } finally {
    await fh.close();
  }
}

/** Makes the bytes of a file written (or copied) into staging durable. */
async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes a checkpoint file (ADR 0019) whole into `staging`, every part checked against its CRC32C
 * as read back from the file; the engine's recovery checks it against the record that names it.
 * Returns its size.
 */
async function restoreCheckpointFile(
  store: Store,
  base: string,
  backup: string,
  seg: ManifestSegment,
  staging: string,
  rb: ReadBack,
): Promise<number> {
  const path = join(staging, seg.name);
  if (seg.parts.length === 0) await writeFile(path, '', { flag: 'wx' });
  let start = 0;
  for (const [i, part] of seg.parts.entries()) {
    const key = joinKey(base, part.key);
    await placePart(store, backup, key, path, i === 0);
    const { got, crc } = await readPart(
      path,
      start,
      rb,
      () => undefined,
      () => 0,
    );
    if (part.offset !== start || got !== part.size || crc !== part.crc32c) {
      throw new RestoreError(
        `backup ${backup} is damaged: ${store.location}/${key} has ${got} bytes at ${start} with crc32c ${crc}, ` +
          `the manifest says ${part.size} bytes at ${part.offset} with crc32c ${part.crc32c}`,
      );
    }
    start += got;
  }
  await syncFile(path);
  return start;
}

export interface StoreRestoreOptions {
  store: Store;
  deployment: string;
  pair: number;
  to: string;
  target: Target;
  log?: (msg: string) => void;
  /** Restore although the engine that made the backup says it was another deployment or pair. */
  force?: boolean;
}

export async function listBackups(store: Store, base: string): Promise<BackupRef[]> {
  const { complete } = await listPair(store, base);
  const out: BackupRef[] = [];
  for (const name of complete) out.push({ name, manifest: await readManifest(store, base, name) });
  return out;
}

export async function restoreFromStore(opts: StoreRestoreOptions): Promise<RestoreResult> {
  const base = await locate(opts.store, opts.deployment, opts.pair);
  const backups = await listBackups(opts.store, base);
  const { ref, cut } = choose(backups, opts.target);
  return restoreBackup({ ...opts, base, ref, cut });
}

export interface BackupRestoreOptions extends Omit<StoreRestoreOptions, 'target'> {
  /** The pair directory in the store (locate()). */
  base: string;
  /** The backup to restore; its manifest need not be stored yet (a backup digesting itself). */
  ref: BackupRef;
  /** Where to cut it (choose()); null: whole. */
  cut: Target | null;
  /**
   * Only from the segment holding the newest checkpoint on (the manifest's lastCheckpoint; all of
   * it when the manifest does not say): enough to replay, not a WAL to keep.
   */
  fromCheckpoint?: boolean;
}

/** Restores one given backup: every part and record is checked, nothing lands in `to` unless all verify. */
export async function restoreBackup(opts: BackupRestoreOptions): Promise<RestoreResult> {
  const { store, base, ref, cut } = opts;
  const log = opts.log ?? (() => undefined);
  const m: Manifest = ref.manifest;
  log(
    `restoring backup ${ref.name} (sequences ${m.firstSequence}-${m.lastSequence}) from ${store.location}/${base}`,
  );
  if (m.deployment !== opts.deployment || m.pair !== opts.pair) {
    log(`note: the backup was taken from deployment ${m.deployment} pair ${m.pair}`);
  }
  const id = m.identity;
  if (!id) {
    log(`backup ${ref.name} does not say which engine made it (an older backup): identity not checked`);
  } else if (id.deployment !== opts.deployment || id.pair !== opts.pair) {
    const why = `backup ${ref.name} holds the WAL of deployment ${id.deployment} pair ${id.pair} (WAL id ${id.walId}), not of deployment ${opts.deployment} pair ${opts.pair}`;
    if (!opts.force)
      throw new RestoreError(
        `refusing to restore: ${why}. Check, then run with --force to restore it anyway`,
      );
    log(`--force: restoring although ${why}`);
  }
  const staging = await stagingDir(opts.to);
  const rb = new ReadBack();
  const flushes: Promise<void>[] = [];
  try {
    let lastSeq = 0;
    let lastTs: number | null = null;
    let bytes = 0;
    let stop = false;
    const stopAt =
      cut?.upToSequence !== undefined
        ? (seq: number) => seq > cut.upToSequence!
        : cut?.upToTime !== undefined
          ? (_seq: number, ts: number) => ts > cut.upToTime!
          : null;
    const from = opts.fromCheckpoint && cut === null ? m.lastCheckpoint?.segment : undefined;
    const partial = from !== undefined && m.segments.some((s) => s.name === from && !s.checkpoint);
    let skipping = partial;
    for (const seg of m.segments) {
      if (skipping && seg.name === from) skipping = false;
      if (skipping && !seg.checkpoint) continue;
      if (seg.checkpoint) {
        // Listed after the segments: a file captured before the last record kept may be named by
        // a kept CheckpointRef (one named by none is deleted by the engine's recovery).
        const captured = Number(SNAPSHOT_FILE.exec(seg.name)?.[1] ?? NaN);
        if (!(captured < lastSeq)) continue;
        bytes += await restoreCheckpointFile(store, base, ref.name, seg, staging, rb);
        continue;
      }
      if (stop) continue;
      if (seg.parts.length === 0) continue;
      const path = join(staging, seg.name);
      // Each part is copied into place, then read back: every part's checksum and every record
      // are checked on the bytes in the file (ADR 0027).
      const v = new RecordVerifier(seg.name, 0, lastSeq > 0 ? lastSeq + 1 : null, stopAt, false);
      let written = 0;
      let where = seg.name;
      try {
        for (const [i, part] of seg.parts.entries()) {
          if (part.offset !== written) {
            throw new RestoreError(
              `backup ${ref.name}: ${seg.name} part ${part.key} starts at ${part.offset}, expected ${written}`,
            );
          }
          const key = joinKey(base, part.key);
          where = `${store.location}/${key}`;
          await placePart(store, ref.name, key, path, i === 0);
          const { got, crc } = await readPart(
            path,
            written,
            rb,
            (c) => v.push(c),
            () => v.pending,
          );
          if (got !== part.size || crc !== part.crc32c) {
            throw new RestoreError(
              `backup ${ref.name} is damaged: ${store.location}/${key} has ${got} bytes with crc32c ${crc}, ` +
                `the manifest says ${part.size} bytes with crc32c ${part.crc32c}. Restore an older backup ` +
                '(--up-to-sequence / --up-to-time) or from another copy',
            );
          }
          written += got;
          if (v.cut !== null) break;
        }
        v.finish();
      } catch (err) {
        if (err instanceof BackupVerifyError) {
          throw new RestoreError(`backup ${ref.name} is damaged: ${where}: ${err.message}`);
        }
        throw err;
      }
      lastSeq = v.stats.lastSequence ?? lastSeq;
      lastTs = v.stats.lastTimestamp ?? lastTs;
      if (v.cut === null) {
        if (seg.name !== CURRENT_SEGMENT && !v.stats.rotated) {
          throw new RestoreError(
            `backup ${ref.name} is damaged: ${seg.name} does not end with a rotation record`,
          );
        }
        bytes += written;
        // Flushed while the next segment is copied and checked; awaited before the commit.
        const flushing = syncFile(path);
        // Reported by the Promise.all below; this only keeps it from counting as unhandled.
        flushing.catch(() => undefined);
        flushes.push(flushing);
        continue;
      }
      // The first record past the target is in this file: keep what is before it, as the
      // current segment (it no longer ends with its rotation record), and nothing after.
      stop = true;
      if (v.cut === 0) {
        await rm(path);
      } else {
        await truncate(path, v.cut);
        if (seg.name !== CURRENT_SEGMENT) await rename(path, join(staging, CURRENT_SEGMENT));
        await syncFile(join(staging, CURRENT_SEGMENT));
        bytes += v.cut;
      }
    }
    await Promise.all(flushes);
    if (lastSeq === 0) throw new RestoreError(`backup ${ref.name}: nothing to restore before the target`);
    await checkMaterialised(staging, lastSeq, lastSeq, partial);
    // The restored WAL keeps the id of the one backed up, and its high-water mark vouches for
    // every restored record (mark.ts).
    await writeMark(staging, { walId: id?.walId ?? newWalId(), durableSequence: lastSeq });
    const files = await commit(staging, opts.to);
    return {
      source: `${store.location}/${base}`,
      backup: ref.name,
      lastSequence: lastSeq,
      lastTimestamp: lastTs,
      files,
      bytes,
    };
  } catch (err) {
    await Promise.allSettled(flushes);
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}
