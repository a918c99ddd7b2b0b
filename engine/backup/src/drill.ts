// A restore drill (ADR 0024): restores the newest backup of one pair into scratch space, replays
// it with the engine's own recovery, and compares what it replays into with what the backup
// recorded when it was taken and, when the engine answers, with the live engine. The result says
// which check failed; it never touches the engine or the store.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { WalStatus } from '@veloz/api/http/schemas';
import type { Replayer } from './manifest.ts';
import { choose, listBackups, locate, restoreBackup } from './restore.ts';
import type { Store } from './store.ts';

export interface DrillOptions {
  store: Store;
  deployment: string;
  pair: number;
  /** Scratch space for the restored WAL (an emptyDir in the CronJob); emptied afterwards. */
  scratch: string;
  replay: Replayer;
  /** The live engine, compared when it answers. */
  engineUrl?: string;
  /** The engine token for GET /api/wal/status. */
  token?: string;
  /** The newest backup may be at most this old (one backup interval); not checked when absent. */
  maxBackupAgeSeconds?: number;
  now?: () => number;
  log?: (msg: string) => void;
  /** Injected in tests; the global fetch otherwise. */
  fetch?: typeof fetch;
}

/** What mismatched, as the BackupVerified condition's reason names it. */
export type DrillReason =
  | 'NoBackup'
  | 'RestoreFailed'
  | 'ReplayFailed'
  | 'SequenceMismatch'
  | 'DigestMismatch'
  | 'LiveEngineMismatch'
  | 'BackupTooOld';

export interface DrillResult {
  result: 'Succeeded' | 'Failed';
  /** The first failed check; absent when it succeeded. */
  reason?: DrillReason;
  deployment: string;
  pair: number;
  time: string;
  backup: string | null;
  sequence: number | null;
  entriesReplayed: number;
  digest: string | null;
  durationSeconds: number;
  /** What was compared and how it came out, one line each, in the order checked. */
  checks: string[];
}

class DrillFailure extends Error {
  readonly reason: DrillReason;
  constructor(reason: DrillReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

async function liveStatus(o: DrillOptions, f: typeof fetch): Promise<WalStatus | string> {
  const url = new URL('/api/wal/status', o.engineUrl).href;
  try {
    const res = await f(url, {
      headers: o.token ? { authorization: `Bearer ${o.token}` } : {},
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) return `${url} answered ${res.status}`;
    return (await res.json()) as WalStatus;
  } catch (err) {
    return `${url}: ${errText(err)}`;
  }
}

export async function runDrill(o: DrillOptions): Promise<DrillResult> {
  const now = o.now ?? Date.now;
  const log = o.log ?? (() => undefined);
  const started = now();
  const t0 = performance.now();
  const checks: string[] = [];
  const out: DrillResult = {
    result: 'Failed',
    deployment: o.deployment,
    pair: o.pair,
    time: new Date(started).toISOString(),
    backup: null,
    sequence: null,
    entriesReplayed: 0,
    digest: null,
    durationSeconds: 0,
    checks,
  };
  await mkdir(o.scratch, { recursive: true });
  const dir = await mkdtemp(join(o.scratch, `drill-${o.pair}-`));
  try {
    let base: string;
    let backups;
    try {
      base = await locate(o.store, o.deployment, o.pair);
      backups = await listBackups(o.store, base);
    } catch (err) {
      throw new DrillFailure('NoBackup', errText(err));
    }
    const { ref } = choose(backups, {});
    const m = ref.manifest;
    out.backup = ref.name;
    log(`drill: restoring backup ${ref.name} of ${o.deployment} pair ${o.pair} into ${dir}`);
    try {
      await restoreBackup({
        store: o.store,
        deployment: o.deployment,
        pair: o.pair,
        to: dir,
        base,
        ref,
        cut: null,
      });
    } catch (err) {
      throw new DrillFailure('RestoreFailed', errText(err));
    }
    checks.push(`restored ${ref.name}: every part and record checksum verified`);
    let replayed;
    try {
      replayed = await o.replay(dir);
    } catch (err) {
      throw new DrillFailure('ReplayFailed', `backup ${ref.name} does not replay: ${errText(err)}`);
    }
    out.sequence = replayed.sequence;
    out.entriesReplayed = replayed.entriesReplayed;
    out.digest = replayed.digest;
    if (replayed.sequence !== m.sequence) {
      throw new DrillFailure(
        'SequenceMismatch',
        `backup ${ref.name} replays to sequence ${replayed.sequence}, its manifest says ${m.sequence}`,
      );
    }
    checks.push(`sequence ${replayed.sequence} matches the manifest`);
    if (!m.state) {
      checks.push(
        `backup ${ref.name} records no order-state digest (taken before drills): only the sequence was compared`,
      );
    } else if (m.state.digest !== replayed.digest) {
      throw new DrillFailure(
        'DigestMismatch',
        `backup ${ref.name} replays into order state ${replayed.digest}, it recorded ${m.state.digest} when taken`,
      );
    } else {
      checks.push(`order-state digest ${replayed.digest} matches the manifest`);
    }
    if (o.maxBackupAgeSeconds !== undefined) {
      const age = Math.round((started - m.createdAtMs) / 1000);
      if (age > o.maxBackupAgeSeconds) {
        throw new DrillFailure(
          'BackupTooOld',
          `the newest backup ${ref.name} is ${age} s old, more than one backup interval (${o.maxBackupAgeSeconds} s)`,
        );
      }
      checks.push(`the newest backup is ${age} s old (at most ${o.maxBackupAgeSeconds} s)`);
    }
    if (o.engineUrl) {
      const live = await liveStatus(o, o.fetch ?? fetch);
      if (typeof live === 'string') {
        checks.push(`live engine not compared: ${live}`);
      } else {
        const walId = m.identity?.walId;
        if (walId && live.identity.walId !== walId) {
          throw new DrillFailure(
            'LiveEngineMismatch',
            `the live engine holds WAL ${live.identity.walId}, backup ${ref.name} is of WAL ${walId}`,
          );
        }
        if (live.durableSequence < m.sequence) {
          throw new DrillFailure(
            'LiveEngineMismatch',
            `the live engine's WAL ends at sequence ${live.durableSequence}, before the ${m.sequence} backup ${ref.name} holds: acknowledged records are missing on the engine`,
          );
        }
        checks.push(
          `live engine at sequence ${live.durableSequence}${walId ? ` on the same WAL ${walId}` : ''}, ${live.durableSequence - m.sequence} records past the backup`,
        );
      }
    }
    out.result = 'Succeeded';
  } catch (err) {
    if (!(err instanceof DrillFailure)) throw err;
    out.reason = err.reason;
    checks.push(`FAILED (${err.reason}): ${err.message}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
    out.durationSeconds = Number(((performance.now() - t0) / 1000).toFixed(3));
  }
  return out;
}
