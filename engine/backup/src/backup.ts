// `veloz backup`: takes a consistent snapshot from one engine (GET /api/wal/backup), checks every
// record's checksum and sequence as the bytes arrive, stores only what the store does not hold
// yet, and writes the manifest last, so a backup that failed half-way is never complete.
import { crc32c } from '@node-rs/crc32';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { CURRENT_SEGMENT } from '@veloz/wal/segments';
import {
  SNAPSHOT_FORMAT,
  SNAPSHOT_INDEX,
  type SnapshotFile,
  type SnapshotIndex,
} from '@veloz/wal/snapshot-format';
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  backupName,
  emptySegment,
  lastCheckpointOf,
  listPair,
  pairDir,
  partKey,
  readManifest,
  type BackupRef,
  type Manifest,
  type ManifestSegment,
  type ManifestState,
  type Replayer,
} from './manifest.ts';
import { getInBlocks } from './block-get.ts';
import { restoreBackup } from './restore.ts';
import { joinKey, type Store } from './store.ts';
import { readTar, type TarEntry } from '@veloz/wal/tar';
import { BackupVerifyError, RecordVerifier, crcHex, type SegmentStats } from './verify.ts';

export class BackupError extends Error {}

/**
 * Segment bytes are checked, checksummed and written in blocks this large, gathered from the
 * network's 64 KB reads: the per-chunk costs (promises, calls into native code) are paid per
 * block (ADR 0027).
 */
const BLOCK = 1024 * 1024;

export interface BackupOptions {
  engineUrl: string;
  deployment: string;
  pair: number;
  store: Store;
  now?: () => number;
  /** Abort when the engine sends nothing for this long. */
  timeoutMs?: number;
  log?: (msg: string) => void;
  /** Store the backup although the engine's identity does not match (see checkIdentity). */
  force?: boolean;
  /** The engine token of scope backup (ADR 14); none: the engine must serve this as a loopback client. */
  token?: string;
  /**
   * Replays the stored backup before its manifest is written, to record the order-state digest a
   * restore drill compares (ADR 0024). A backup that does not replay fails.
   */
  replay?: Replayer;
  /** Where the backup is restored for that replay (default: the system's temporary directory). */
  scratchDir?: string;
}

/** Restores the backup just stored (its manifest not yet written) into scratch and replays it. */
async function digestBackup(
  opts: BackupOptions,
  replay: Replayer,
  base: string,
  ref: BackupRef,
): Promise<ManifestState> {
  const dir = await mkdtemp(join(opts.scratchDir ?? tmpdir(), 'veloz-backup-replay-'));
  try {
    await restoreBackup({
      store: opts.store,
      deployment: opts.deployment,
      pair: opts.pair,
      to: dir,
      base,
      ref,
      cut: null,
      force: true,
      // The replay starts at the newest checkpoint: the segments before it were checked record
      // by record on the way in, and copying them to scratch would only be read past.
      fromCheckpoint: true,
    });
    const r = await replay(dir);
    if (r.sequence !== ref.manifest.lastSequence) {
      throw new BackupError(
        `the backup replays to sequence ${r.sequence}, but it holds records up to ${ref.manifest.lastSequence}`,
      );
    }
    return { sequence: r.sequence, entriesReplayed: r.entriesReplayed, digest: r.digest };
  } catch (err) {
    if (err instanceof BackupError) throw err;
    throw new BackupError(`the backup does not replay: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface BackupResult {
  name: string;
  key: string;
  manifest: Manifest;
  /** Segment files the engine sent bytes of (the others were already stored). */
  sentFiles: string[];
}

/** The newest complete backup that can be read, to continue from (null: store everything). */
async function newestReadable(
  store: Store,
  base: string,
  log: (m: string) => void,
): Promise<BackupRef | null> {
  const { complete } = await listPair(store, base);
  for (const name of [...complete].reverse()) {
    try {
      return { name, manifest: await readManifest(store, base, name) };
    } catch (err) {
      log(`ignoring backup ${name} as a base: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return null;
}

async function* tee(body: AsyncIterable<Buffer>, v: { push(c: Buffer): void }): AsyncGenerator<Buffer> {
  for await (const c of body) {
    v.push(c);
    yield c;
  }
}

/** A response whose body is read once, to its end or not at all. */
interface Answer {
  status: number;
  body: AsyncIterable<Buffer>;
  /** The body comes in blocks already (else the tar reader gathers it into blocks). */
  blocks: boolean;
  destroy(): void;
}

/**
 * GET the snapshot; the socket times out when the engine sends nothing for `idleMs`, however long
 * the whole transfer takes. Plain HTTP (the engine's own port) reads straight into 1 MB blocks;
 * HTTPS (through a proxy or an ingress) goes through node:https.
 */
async function get(url: URL, idleMs: number, token: string | undefined): Promise<Answer> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const idleError = () => new BackupError(`the engine sent nothing for ${idleMs} ms`);
  if (url.protocol === 'http:') {
    const r = await getInBlocks(url, { headers, idleMs, idleError, block: BLOCK });
    return { status: r.status, body: r.body, blocks: true, destroy: () => r.destroy() };
  }
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpsRequest(url, { timeout: idleMs, headers }, resolve);
    req.on('timeout', () => req.destroy(idleError()));
    req.on('error', reject);
    req.end();
  });
  return {
    status: res.statusCode ?? 0,
    body: res as AsyncIterable<Buffer>,
    blocks: false,
    destroy: () => res.destroy(),
  };
}

export async function runBackup(opts: BackupOptions): Promise<BackupResult> {
  const now = opts.now ?? Date.now;
  const log = opts.log ?? (() => undefined);
  const store = opts.store;
  const base = pairDir(opts.deployment, opts.pair);
  const startedAt = now();
  const prev = await newestReadable(store, base, log);
  const known = new Map<string, ManifestSegment>();
  for (const s of prev?.manifest.segments ?? []) if (s.id !== null && s.parts.length > 0) known.set(s.id, s);
  // The URL stays well under header limits: a WAL keeps VELOZ_WAL_MAX_FILES segments (10 by default).
  const have = [...known.values()]
    .slice(-200)
    .map((s) => `${s.id}:${s.size}`)
    .join(',');
  const url = new URL('/api/wal/backup', opts.engineUrl);
  if (have) url.searchParams.set('have', have);
  let res: Answer;
  try {
    res = await get(url, opts.timeoutMs ?? 60_000, opts.token);
  } catch (err) {
    throw new BackupError(
      `cannot reach the engine at ${opts.engineUrl}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  try {
    if (res.status !== 200) {
      let text = '';
      for await (const c of res.body) text += c.toString();
      throw new BackupError(
        `the engine at ${opts.engineUrl} answered ${res.status} to GET /api/wal/backup: ${text}`,
      );
    }
    const entries = readTar(res.body, res.blocks ? 0 : BLOCK);
    return await receive(opts, entries, known, base, startedAt, prev);
  } finally {
    // Whatever the engine still sends (nothing, normally) is not needed.
    res.destroy();
  }
}

/**
 * A checkpoint file (ADR 0019): no records to check, but its whole bytes must carry the CRC32C its
 * id states (the one in the CheckpointRef record naming it). Stored once: later backups reuse it.
 */
async function receiveCheckpointFile(
  opts: BackupOptions,
  f: SnapshotFile,
  known: Map<string, ManifestSegment>,
  base: string,
  next: () => Promise<TarEntry | null>,
): Promise<ManifestSegment> {
  const id = f.id ?? '';
  const crcStated = /^\d+\.([0-9a-f]{8})$/.exec(id)?.[1];
  if (crcStated === undefined) throw new BackupError(`${f.name}: checkpoint file with a malformed id ${id}`);
  const stored = known.get(id);
  if (f.sendFrom > 0) {
    if (f.sendFrom !== f.size || stored?.checkpoint !== true || stored.size !== f.size)
      throw new BackupError(`${f.name}: the engine skipped ${f.sendFrom} bytes this store does not hold`);
    return { ...stored, name: f.name, parts: [...stored.parts] };
  }
  const entry = await next();
  if (!entry || entry.name !== f.name || entry.size !== f.size) {
    throw new BackupError(
      `expected ${f.size} bytes of ${f.name} in the snapshot, got ${entry ? `${entry.size} bytes of ${entry.name}` : 'the end'}`,
    );
  }
  let crc = 0;
  const key = partKey(id, 0, f.size);
  await opts.store.write(
    joinKey(base, key),
    tee(entry.body, { push: (c) => (crc = crc32c(c, crc)) }),
    f.size,
    true,
  );
  if (crcHex(crc) !== crcStated) {
    throw new BackupError(
      `${opts.engineUrl} ${f.name}: crc32c ${crcHex(crc)}, but the record naming it says ${crcStated}`,
    );
  }
  return {
    ...emptySegment(f.name, id, true),
    size: f.size,
    checkpoint: true,
    parts: [{ key, offset: 0, size: f.size, crc32c: crcStated }],
  };
}

async function receive(
  opts: BackupOptions,
  entries: AsyncGenerator<TarEntry>,
  known: Map<string, ManifestSegment>,
  base: string,
  startedAt: number,
  prev: BackupRef | null,
): Promise<BackupResult> {
  const { store } = opts;
  const next = async (): Promise<TarEntry | null> => {
    const r = await entries.next();
    return r.done ? null : r.value;
  };

  const first = await next();
  if (!first || first.name !== SNAPSHOT_INDEX)
    throw new BackupError(`the snapshot does not start with ${SNAPSHOT_INDEX}`);
  const chunks: Buffer[] = [];
  // Copied: a chunk's buffer is reused once the next one is read (ADR 0027).
  for await (const c of first.body) chunks.push(Buffer.from(c));
  const index = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SnapshotIndex;
  if (index.format !== SNAPSHOT_FORMAT) throw new BackupError(`unsupported snapshot format ${index.format}`);
  checkIdentity(opts, index, prev);

  const segments: ManifestSegment[] = [];
  const sentFiles: string[] = [];
  let sentBytes = 0;
  let lastSeq: number | null = null;
  for (const f of index.files) {
    if (f.checkpoint) {
      const seg = await receiveCheckpointFile(opts, f, known, base, next);
      if (f.sendFrom === 0) {
        sentBytes += f.size;
        sentFiles.push(f.name);
      }
      segments.push(seg);
      continue;
    }
    const stored = f.id === null ? undefined : known.get(f.id);
    if (f.sendFrom > 0 && stored?.size !== f.sendFrom) {
      throw new BackupError(`${f.name}: the engine skipped ${f.sendFrom} bytes this store does not hold`);
    }
    const seg: ManifestSegment =
      f.sendFrom > 0 && stored
        ? { ...stored, name: f.name, parts: [...stored.parts] }
        : emptySegment(f.name, f.id, false);
    const follows = seg.follows ?? (seg.firstSequence === null ? null : seg.firstSequence - 1);
    if (follows !== null && lastSeq !== null && follows !== lastSeq) {
      throw new BackupError(
        seg.follows === undefined
          ? `${f.name}: starts at sequence ${seg.firstSequence}, expected ${lastSeq + 1} (gap)`
          : `${f.name}: starts with a sequence jump that follows ${seg.follows}, but the log before it ends at ${lastSeq} (gap)`,
      );
    }
    const n = f.size - f.sendFrom;
    if (n > 0) {
      const entry = await next();
      if (!entry || entry.name !== f.name || entry.size !== n) {
        throw new BackupError(
          `expected ${n} bytes of ${f.name} in the snapshot, got ${entry ? `${entry.size} bytes of ${entry.name}` : 'the end'}`,
        );
      }
      const expect: number | null =
        seg.lastSequence !== null ? seg.lastSequence + 1 : lastSeq !== null ? lastSeq + 1 : null;
      const v: RecordVerifier = new RecordVerifier(`${opts.engineUrl} ${f.name}`, f.sendFrom, expect);
      const key = partKey(f.id ?? 'empty', f.sendFrom, f.size);
      let partCrc: string;
      try {
        // Synced all at once before the manifest: a sync per part would stall the stream.
        await store.write(joinKey(base, key), tee(entry.body, v), n, true);
        partCrc = v.finish();
      } catch (err) {
        const bad = err instanceof BackupVerifyError || (err as Error).cause instanceof BackupVerifyError;
        if (f.sendFrom === 0 || !bad) throw err;
        // The engine only sends what follows the bytes stored (same segment id, longer file):
        // bytes that do not continue them mean the segment's end was cut and written again.
        throw new BackupError(
          `${f.name}: the engine's bytes after the ${f.sendFrom} this store holds do not continue them ` +
            `(${(err as Error).message}): the end of the segment was lost and written again, as after ` +
            `VELOZ_WAL_RECOVERY_MODE=truncate_at_corruption accepted a loss (a declared sequence jump). ` +
            `This store holds records the engine lost: back up to a new destination`,
          { cause: err },
        );
      }
      const s: SegmentStats = v.stats;
      seg.parts.push({ key, offset: f.sendFrom, size: n, crc32c: partCrc });
      seg.entries += s.entries;
      if (seg.firstSequence === null && s.follows !== undefined) seg.follows = s.follows;
      seg.firstSequence ??= s.firstSequence;
      seg.firstTimestamp ??= s.firstTimestamp;
      seg.lastSequence = s.lastSequence ?? seg.lastSequence;
      seg.lastTimestamp = s.lastTimestamp ?? seg.lastTimestamp;
      seg.sealed = s.rotated;
      seg.size = f.size;
      // Bytes after a stored prefix without a checkpoint keep what the prefix's manifest said.
      if (s.checkpointSequence !== null) seg.checkpointSequence = s.checkpointSequence;
      else if (f.sendFrom === 0) seg.checkpointSequence = null;
      sentBytes += n;
      sentFiles.push(f.name);
    }
    if (f.name !== CURRENT_SEGMENT && !seg.sealed) {
      throw new BackupError(`${f.name}: a sealed segment that does not end with a rotation record`);
    }
    if (seg.follows !== undefined && !stored) checkJump(opts, index, prev, seg.follows);
    if (seg.lastSequence !== null) lastSeq = seg.lastSequence;
    segments.push(seg);
  }
  if ((await next()) !== null) throw new BackupError('the snapshot holds more files than backup.json lists');
  if ((lastSeq ?? 0) !== index.sequence) {
    throw new BackupError(
      `the snapshot ends at sequence ${lastSeq ?? 0}, but the engine announced ${index.sequence}`,
    );
  }
  const withRecords = segments.filter((s) => s.firstSequence !== null);
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    deployment: opts.deployment,
    pair: opts.pair,
    identity: index.identity ?? null,
    engineUrl: opts.engineUrl,
    createdAt: new Date(startedAt).toISOString(),
    createdAtMs: startedAt,
    sequence: index.sequence,
    firstSequence: withRecords[0]?.firstSequence ?? null,
    lastSequence: withRecords.at(-1)?.lastSequence ?? null,
    firstTimestamp: withRecords[0]?.firstTimestamp ?? null,
    lastTimestamp: withRecords.at(-1)?.lastTimestamp ?? null,
    bytes: segments.reduce((a, s) => a + s.size, 0),
    sentBytes,
    segments,
    complete: true,
  };
  const checkpoint = lastCheckpointOf(segments);
  if (checkpoint) manifest.lastCheckpoint = checkpoint;
  const name = backupName(startedAt, index.sequence);
  const key = joinKey(base, name, MANIFEST_FILE);
  await store.sync();
  if (opts.replay && manifest.lastSequence !== null) {
    manifest.state = await digestBackup(opts, opts.replay, base, { name, manifest });
  }
  const body = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  await store.write(key, body, body.length);
  return { name, key, manifest, sentFiles };
}

/**
 * Refuses (unless `force`) a sequence jump this store has not seen that was declared below what
 * the newest backup of the same WAL holds: the engine accepted losing records that backup has
 * (truncate_at_corruption), and storing its history would leave them out of every later backup.
 */
function checkJump(opts: BackupOptions, index: SnapshotIndex, prev: BackupRef | null, follows: number): void {
  const before = prev?.manifest.identity;
  if (!prev || follows >= prev.manifest.sequence) return;
  if (before && index.identity && before.walId !== index.identity.walId) return;
  const problem = `the engine declared a sequence jump after record ${follows} (the records after it were lost), but the newest backup ${prev.name} of the same WAL holds records up to ${prev.manifest.sequence}: acknowledged records are missing on the engine (restore them from that backup, or back up to a new destination)`;
  if (opts.force) {
    (opts.log ?? (() => undefined))(`--force: storing the backup although ${problem}`);
    return;
  }
  throw new BackupError(`refusing to back up: ${problem}. Check, then run with --force to store it anyway`);
}

/**
 * Refuses (unless `force`) to store another engine's history under this deployment and pair: the
 * engine must say it is that deployment and pair, hold the WAL the newest backup came from, and
 * hold at least the records that backup holds (fewer means acknowledged records were lost).
 */
function checkIdentity(opts: BackupOptions, index: SnapshotIndex, prev: BackupRef | null): void {
  const log = opts.log ?? (() => undefined);
  const id = index.identity;
  const problems: string[] = [];
  if (!id) {
    log(
      `the engine at ${opts.engineUrl} does not say which engine it is (an older version): identity not checked`,
    );
  } else {
    if (id.deployment !== opts.deployment || id.pair !== opts.pair) {
      problems.push(
        `the engine at ${opts.engineUrl} is deployment ${id.deployment} pair ${id.pair}, not deployment ${opts.deployment} pair ${opts.pair}`,
      );
    }
    const before = prev?.manifest.identity;
    if (prev && before && before.walId !== id.walId) {
      problems.push(
        `the engine's WAL id ${id.walId} is not ${before.walId}, the WAL id of the newest backup ${prev.name} (another engine, a wiped WAL, or a restore from PostgreSQL)`,
      );
    } else if (prev && before && index.sequence < prev.manifest.sequence) {
      problems.push(
        `the engine's WAL ends at sequence ${index.sequence}, but the newest backup ${prev.name} of the same WAL holds records up to ${prev.manifest.sequence}: acknowledged records are missing on the engine (restore them from that backup)`,
      );
    }
  }
  if (problems.length === 0) return;
  if (opts.force) {
    for (const p of problems) log(`--force: storing the backup although ${p}`);
    return;
  }
  throw new BackupError(
    `refusing to back up: ${problems.join('; ')}. Check, then run with --force to store it anyway`,
  );
}
