// The backup layout in a store (a volume or a bucket), relative to its root:
//
//   <deployment>/<pair>/<time>-<sequence>/manifest.json   one per complete backup
//   <deployment>/<pair>/segments/<id>-<from>-<to>.wal     bytes [from, to) of the segment <id>
//
// Segment bytes are shared between backups: a sealed segment is stored once, and the current
// segment only grows, so each backup stores its growth since the previous one. A backup exists
// (is complete) once its manifest does; the manifest is written last.
import type { EngineIdentity } from '@veloz/wal/snapshot-format';
import { StoreError, joinKey, type Store } from './store.ts';

export const MANIFEST_FORMAT = 'veloz-wal-backup/1';
export const MANIFEST_FILE = 'manifest.json';

export interface ManifestPart {
  /** Relative to the pair directory. */
  key: string;
  offset: number;
  size: number;
  /** CRC32C of the part's bytes, hex (every record in it also carries its own CRC32C). */
  crc32c: string;
}

export interface ManifestSegment {
  name: string;
  id: string | null;
  size: number;
  entries: number;
  firstSequence: number | null;
  lastSequence: number | null;
  /**
   * Only for a segment that starts with a declared sequence jump: the record the jump follows
   * (otherwise the segment follows firstSequence - 1). Absent in older manifests.
   */
  follows?: number;
  firstTimestamp: number | null;
  lastTimestamp: number | null;
  sealed: boolean;
  /**
   * A checkpoint file (checkpoint_<sequence>.json) that CheckpointRef records of the segments
   * name, not a segment: no records, restored whole beside them. Absent in older manifests.
   */
  checkpoint?: true;
  /**
   * The sequence of the segment's last checkpoint record (inline or a CheckpointRef), null when it
   * has none. Absent in older manifests: unknown.
   */
  checkpointSequence?: number | null;
  parts: ManifestPart[];
}

/** A segment with no records and no stored bytes yet: what a backup starts from. */
export function emptySegment(name: string, id: string | null, sealed: boolean): ManifestSegment {
  return {
    name,
    id,
    size: 0,
    entries: 0,
    firstSequence: null,
    lastSequence: null,
    firstTimestamp: null,
    lastTimestamp: null,
    sealed,
    parts: [],
  };
}

export interface Manifest {
  format: string;
  deployment: string;
  pair: number;
  /** The engine's own account of who it is and which WAL it holds (absent: an older engine or backup). */
  identity?: EngineIdentity | null;
  engineUrl: string;
  createdAt: string;
  createdAtMs: number;
  /** The engine's durable sequence at the snapshot. */
  sequence: number;
  firstSequence: number | null;
  lastSequence: number | null;
  firstTimestamp: number | null;
  lastTimestamp: number | null;
  bytes: number;
  /** Bytes received and stored by this backup (the rest was stored by earlier ones). */
  sentBytes: number;
  segments: ManifestSegment[];
  /**
   * The newest checkpoint record and the segment holding it: a replay needs only that segment and
   * the ones after it (ADR 0027). Absent in older manifests, and when a segment after it comes
   * from one (then nobody knows where the newest checkpoint is without reading the log).
   */
  lastCheckpoint?: { segment: string; sequence: number };
  /**
   * The order state the backup replays into, digested when it was taken (ADR 0024): what a restore
   * drill compares. Absent in backups from before drills and when no replay was available.
   */
  state?: ManifestState;
  complete: true;
}

export interface ManifestState {
  /** The last sequence the replay reached. */
  sequence: number;
  entriesReplayed: number;
  /** `sha256:<hex>` of the order state (@veloz/engine's orderStateDigest). */
  digest: string;
}

/**
 * Replays a restored WAL directory with the engine's recovery and state code and digests it.
 * Injected by the CLI: the engine depends on this package, not the other way round.
 */
export type Replayer = (dir: string) => Promise<ManifestState & { durationMs: number }>;

/** Where the newest checkpoint of `segments` is, when every segment after it says it has none. */
export function lastCheckpointOf(segments: ManifestSegment[]): Manifest['lastCheckpoint'] {
  for (let i = segments.length - 1; i >= 0; i--) {
    const s = segments[i]!;
    if (s.checkpoint) continue;
    if (s.checkpointSequence === undefined) return undefined;
    if (s.checkpointSequence !== null) return { segment: s.name, sequence: s.checkpointSequence };
  }
  return undefined;
}

export interface BackupRef {
  /** The backup directory name, `<time>-<sequence>`. */
  name: string;
  manifest: Manifest;
}

export function pairDir(deployment: string, pair: number): string {
  return joinKey(deployment, String(pair));
}

/** `20260212T201848123Z`: sorts like the time it names, and is a valid file name everywhere. */
export function timeStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '');
}

export function backupName(ms: number, sequence: number): string {
  return `${timeStamp(ms)}-${String(sequence).padStart(16, '0')}`;
}

export function partKey(id: string, from: number, to: number): string {
  const pad = (n: number) => String(n).padStart(16, '0');
  return `segments/${id.replace('.', '-')}-${pad(from)}-${pad(to)}.wal`;
}

const BACKUP_DIR = /^(\d{8}T\d{9}Z)-(\d{16})$/;

export function isBackupName(name: string): boolean {
  return BACKUP_DIR.test(name);
}

function validate(m: unknown, where: string): Manifest {
  const o = m as Partial<Manifest> | null;
  if (!o || typeof o !== 'object' || o.format !== MANIFEST_FORMAT || o.complete !== true) {
    throw new StoreError(`${where}: not a complete ${MANIFEST_FORMAT} manifest`);
  }
  if (!Array.isArray(o.segments) || typeof o.sequence !== 'number') {
    throw new StoreError(`${where}: manifest has no segments or sequence`);
  }
  return o as Manifest;
}

export async function readManifest(store: Store, base: string, name: string): Promise<Manifest> {
  const key = joinKey(base, name, MANIFEST_FILE);
  let raw: Buffer;
  try {
    raw = await store.readAll(key);
  } catch (err) {
    throw new StoreError(`${store.location}/${key}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new StoreError(`${store.location}/${key}: manifest is not valid JSON (damaged backup)`);
  }
  return validate(parsed, `${store.location}/${key}`);
}

export interface PairListing {
  /** Backup directories with a manifest, oldest first. */
  complete: string[];
  /** Backup directories without one (a run that failed or is still going), with their newest write. */
  partial: Array<{ name: string; keys: string[]; modified: number }>;
  /** Keys of every stored segment part, with their write times. */
  parts: Array<{ key: string; modified: number }>;
}

/** What is stored under one pair directory (`base`), without reading any manifest. */
export async function listPair(store: Store, base: string): Promise<PairListing> {
  const objects = await store.list(base);
  const dirs = new Map<string, { keys: string[]; modified: number; manifest: boolean }>();
  const parts: PairListing['parts'] = [];
  const strip = base ? base.length + 1 : 0;
  for (const o of objects) {
    const rel = o.key.slice(strip);
    const [first, ...rest] = rel.split('/');
    if (!first || rest.length === 0) continue;
    if (first === 'segments') {
      parts.push({ key: rel, modified: o.modified });
      continue;
    }
    if (!isBackupName(first)) continue;
    const d = dirs.get(first) ?? { keys: [], modified: 0, manifest: false };
    d.keys.push(rel);
    d.modified = Math.max(d.modified, o.modified);
    if (rest.join('/') === MANIFEST_FILE) d.manifest = true;
    dirs.set(first, d);
  }
  const names = [...dirs.keys()].sort();
  return {
    complete: names.filter((n) => dirs.get(n)!.manifest),
    partial: names
      .filter((n) => !dirs.get(n)!.manifest)
      .map((n) => ({ name: n, keys: dirs.get(n)!.keys, modified: dirs.get(n)!.modified })),
    parts,
  };
}
