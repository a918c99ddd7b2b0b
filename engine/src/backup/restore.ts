// `veloz restore`: picks the backup that holds the requested point (the newest state, a sequence
// or a time), verifies every byte of it (part checksums, record checksums, contiguous
// sequences), and writes a WAL directory the engine replays on start. The directory is built
// beside the target and moved in only once it verifies.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { CURRENT_SEGMENT, HEADER_SIZE, alignedSize, readU64 } from '../wal/format.ts';
import { fsyncDir, verifyWal } from '../wal/recovery.ts';
import { listPair, pairDir, readManifest, type BackupRef, type Manifest } from './manifest.ts';
import { joinKey, type Store } from './store.ts';
import { BackupVerifyError, RecordVerifier } from './verify.ts';

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

/** Entries that do not make a WAL directory "non-empty" (a fresh ext4 volume has lost+found). */
const IGNORED = new Set(['lost+found']);

/** Refuses a target that holds anything unless `force`; with `force`, empties it. */
export async function prepareTarget(dir: string, force: boolean): Promise<boolean> {
  await mkdir(dir, { recursive: true });
  const entries = (await readdir(dir)).filter((e) => !IGNORED.has(e) && !e.startsWith('.veloz-restore-'));
  if (entries.length === 0) return true;
  if (!force) return false;
  for (const e of entries) await rm(join(dir, e), { recursive: true, force: true });
  return true;
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

/** Checks the materialised directory the way the engine will read it. */
async function verifyMaterialised(dir: string, expectLast: number): Promise<void> {
  const r = await verifyWal(dir);
  if (!r.healthy || r.tornTailBytes > 0) {
    throw new RestoreError(
      `the restored WAL does not verify: ${[...r.problems, `${r.tornTailBytes} torn bytes`].join('; ')}`,
    );
  }
  if (r.lastSequence !== expectLast) {
    throw new RestoreError(`the restored WAL ends at sequence ${r.lastSequence}, expected ${expectLast}`);
  }
}

export interface StoreRestoreOptions {
  store: Store;
  deployment: string;
  pair: number;
  to: string;
  target: Target;
  log?: (msg: string) => void;
}

export async function listBackups(store: Store, base: string): Promise<BackupRef[]> {
  const { complete } = await listPair(store, base);
  const out: BackupRef[] = [];
  for (const name of complete) out.push({ name, manifest: await readManifest(store, base, name) });
  return out;
}

export async function restoreFromStore(opts: StoreRestoreOptions): Promise<RestoreResult> {
  const { store, target } = opts;
  const log = opts.log ?? (() => undefined);
  const base = await locate(store, opts.deployment, opts.pair);
  const backups = await listBackups(store, base);
  const { ref, cut } = choose(backups, target);
  const m: Manifest = ref.manifest;
  log(
    `restoring backup ${ref.name} (sequences ${m.firstSequence}-${m.lastSequence}) from ${store.location}/${base}`,
  );
  if (m.deployment !== opts.deployment || m.pair !== opts.pair) {
    log(`note: the backup was taken from deployment ${m.deployment} pair ${m.pair}`);
  }
  const staging = await stagingDir(opts.to);
  try {
    let lastSeq = 0;
    let lastTs: number | null = null;
    let bytes = 0;
    let stop = false;
    for (const seg of m.segments) {
      if (stop) break;
      if (seg.parts.length === 0) continue;
      const path = join(staging, seg.name);
      const fh = await open(path, 'w');
      const v = new RecordVerifier(`backup ${ref.name} ${seg.name}`, 0, lastSeq > 0 ? lastSeq + 1 : null);
      let recordsEnd = 0;
      try {
        for (const part of seg.parts) {
          if (part.offset !== recordsEnd) {
            throw new RestoreError(
              `backup ${ref.name}: ${seg.name} part ${part.key} starts at ${part.offset}, expected ${recordsEnd}`,
            );
          }
          const h = createHash('sha256');
          let got = 0;
          const key = joinKey(base, part.key);
          let body: AsyncIterable<Buffer>;
          try {
            body = await store.read(key);
          } catch (err) {
            throw new RestoreError(
              `backup ${ref.name}: ${store.location}/${key} is missing (${err instanceof Error ? err.message : String(err)})`,
            );
          }
          for await (const c of body) {
            h.update(c);
            got += c.length;
            await fh.write(c);
          }
          const sha = h.digest('hex');
          if (got !== part.size || sha !== part.sha256) {
            throw new RestoreError(
              `backup ${ref.name} is damaged: ${store.location}/${key} has ${got} bytes with sha256 ${sha}, ` +
                `the manifest says ${part.size} bytes with sha256 ${part.sha256}. Restore an older backup ` +
                '(--up-to-sequence / --up-to-time) or from another copy',
            );
          }
          recordsEnd += got;
        }
      } finally {
        await fh.close();
      }
      // Records are checked in the file just written (the parts' checksums proved it holds what
      // was backed up, the records prove it is a valid log continuing the previous file).
      try {
        for await (const c of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>)
          v.push(c);
        v.finish();
      } catch (err) {
        if (err instanceof BackupVerifyError)
          throw new RestoreError(`backup ${ref.name} is damaged: ${err.message}`);
        throw err;
      }
      const keep = cut ? await findCut(path, cut) : null;
      if (!keep || keep.end === null) {
        lastSeq = v.stats.lastSequence ?? lastSeq;
        lastTs = v.stats.lastTimestamp ?? lastTs;
        bytes += recordsEnd;
        continue;
      }
      // The first record past the target is in this file: keep what is before it, as the
      // current segment (it no longer ends with its rotation record), and nothing after.
      stop = true;
      lastSeq = keep.lastSeq ?? lastSeq;
      lastTs = keep.lastTs ?? lastTs;
      if (keep.end === 0) {
        await rm(path);
      } else {
        await truncate(path, keep.end);
        if (seg.name !== CURRENT_SEGMENT) await rename(path, join(staging, CURRENT_SEGMENT));
        bytes += keep.end;
      }
    }
    if (lastSeq === 0) throw new RestoreError(`backup ${ref.name}: nothing to restore before the target`);
    await verifyMaterialised(staging, lastSeq);
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
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Offset just past the last record to keep in a verified segment file (null: the target is past
 * its end), and that record's sequence and time.
 */
async function findCut(
  path: string,
  cut: Target,
): Promise<{ end: number | null; lastSeq: number | null; lastTs: number | null }> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(HEADER_SIZE);
    let off = 0;
    let lastSeq: number | null = null;
    let lastTs: number | null = null;
    while (off < size) {
      await fh.read(head, 0, HEADER_SIZE, off);
      const seq = readU64(head, 8);
      const ts = readU64(head, 16);
      if (cut.upToSequence !== undefined && seq > cut.upToSequence) return { end: off, lastSeq, lastTs };
      if (cut.upToTime !== undefined && ts > cut.upToTime) return { end: off, lastSeq, lastTs };
      lastSeq = seq;
      lastTs = ts;
      off += alignedSize(head.readUInt32LE(0));
    }
    return { end: null, lastSeq, lastTs };
  } finally {
    await fh.close();
  }
}
