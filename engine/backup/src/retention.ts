// Retention of one pair's backups: complete backups older than the cut-off go, except the newest
// complete one; stored segment bytes go once no remaining backup refers to them. Leftovers of
// failed runs (a directory without a manifest, unreferenced parts) go after a grace period, so a
// run that is still writing is never disturbed.
import { listPair, pairDir, readManifest } from './manifest.ts';
import { joinKey, type Store } from './store.ts';

export interface RetentionOptions {
  store: Store;
  deployment: string;
  pair: number;
  retentionDays: number;
  now?: () => number;
  /** Age below which unreferenced parts and incomplete backups are left alone. */
  graceMs?: number;
  log?: (msg: string) => void;
}

export interface RetentionResult {
  deletedBackups: string[];
  deletedPartial: string[];
  deletedParts: string[];
  kept: string[];
}

const DAY_MS = 86_400_000;

export async function applyRetention(opts: RetentionOptions): Promise<RetentionResult> {
  const now = (opts.now ?? Date.now)();
  const grace = opts.graceMs ?? 3_600_000;
  const log = opts.log ?? (() => undefined);
  const { store } = opts;
  const base = pairDir(opts.deployment, opts.pair);
  const listing = await listPair(store, base);
  const cutoff = now - opts.retentionDays * DAY_MS;
  const result: RetentionResult = { deletedBackups: [], deletedPartial: [], deletedParts: [], kept: [] };

  const referenced = new Set<string>();
  let unreadable = false;
  const newest = listing.complete.at(-1);
  for (const name of listing.complete) {
    let created: number;
    let parts: string[] = [];
    try {
      const m = await readManifest(store, base, name);
      created = m.createdAtMs;
      parts = m.segments.flatMap((s) => s.parts.map((p) => p.key));
    } catch (err) {
      // Without its manifest nobody knows which parts it needs: delete no parts this time.
      unreadable = true;
      log(
        `retention: ${err instanceof Error ? err.message : String(err)}; keeping it and every segment part`,
      );
      result.kept.push(name);
      continue;
    }
    if (created < cutoff && name !== newest) {
      await store.remove([joinKey(base, name, 'manifest.json')]);
      result.deletedBackups.push(name);
    } else {
      result.kept.push(name);
      for (const p of parts) referenced.add(p);
    }
  }
  for (const p of listing.partial) {
    if (p.modified < now - grace) {
      await store.remove(p.keys.map((k) => joinKey(base, k)));
      result.deletedPartial.push(p.name);
    }
  }
  if (!unreadable) {
    const gone = listing.parts
      .filter((p) => !referenced.has(p.key) && p.modified < now - grace)
      .map((p) => p.key);
    if (gone.length > 0) await store.remove(gone.map((k) => joinKey(base, k)));
    result.deletedParts = gone;
  }
  return result;
}
