// status.lastRestoreTest and condition BackupVerified (spec.backup.verify, ADR 0024), as pure
// functions of the last finished drill Job and its pods' termination messages: each drill
// container leaves the JSON line `veloz restore --drill` printed.
import type { LastRestoreTest, VelozDeployment } from '@veloz/api/generated/types';
import { maxGapSeconds } from '@veloz/api/schedule';
import type { ConditionInput } from './conditions.ts';

/** One pair's drill report, as `veloz restore --drill` writes it (engine/backup/src/drill.ts). */
export interface DrillReport {
  pair: number;
  result: 'Succeeded' | 'Failed';
  reason?: string;
  backup: string | null;
  sequence: number | null;
  entriesReplayed: number;
  durationSeconds: number;
  checks: string[];
}

/** What the reconciler found of the newest finished drill Job. */
export interface ObservedDrill {
  /** When the Job finished. */
  time: string;
  /** The Job failed (a drill found a problem, or the pod never reported). */
  jobFailed: boolean;
  /** The Job's failure message, when it failed. */
  jobMessage?: string;
  /** Termination messages of the drill containers, by container name (`drill-<pair>`). */
  messages: ReadonlyMap<string, string | undefined>;
}

export interface RestoreTest {
  status: LastRestoreTest;
  /** The BackupVerified reason when it failed: the first failed pair's, else a Job-level one. */
  reason?: string;
  /** The sequence each pair's drill replayed to, for the comparison with the live engines. */
  sequences: ReadonlyMap<number, number>;
}

/** A termination message as a drill report; null when it is not one. */
export function parseDrillReport(message: string | undefined): DrillReport | null {
  if (!message) return null;
  let v: unknown;
  try {
    v = JSON.parse(message);
  } catch {
    return null;
  }
  const r = v as Partial<DrillReport> | null;
  if (
    !r ||
    typeof r !== 'object' ||
    typeof r.pair !== 'number' ||
    (r.result !== 'Succeeded' && r.result !== 'Failed') ||
    !Array.isArray(r.checks)
  )
    return null;
  return {
    pair: r.pair,
    result: r.result,
    ...(typeof r.reason === 'string' ? { reason: r.reason } : {}),
    backup: typeof r.backup === 'string' ? r.backup : null,
    sequence: typeof r.sequence === 'number' ? r.sequence : null,
    entriesReplayed: typeof r.entriesReplayed === 'number' ? r.entriesReplayed : 0,
    durationSeconds: typeof r.durationSeconds === 'number' ? r.durationSeconds : 0,
    checks: r.checks.filter((c): c is string => typeof c === 'string'),
  };
}

const MAX_MESSAGE = 4096;

/** The drill of every pair of the desk, summed up; a pair without a readable report failed. */
export function summarizeDrill(pairs: number, o: ObservedDrill): RestoreTest {
  const reports: DrillReport[] = [];
  const problems: string[] = [];
  let reason: string | undefined;
  for (let i = 0; i < pairs; i++) {
    const r = parseDrillReport(o.messages.get(`drill-${i}`));
    if (!r) {
      reason ??= 'NoReport';
      problems.push(
        `pair ${i}: no drill report${o.jobFailed && o.jobMessage ? ` (the Job failed: ${o.jobMessage})` : ''}`,
      );
      continue;
    }
    reports.push(r);
    if (r.result === 'Failed') {
      reason ??= r.reason ?? 'DrillFailed';
      problems.push(`pair ${i}: ${r.checks.at(-1) ?? 'failed'}`);
    }
  }
  const failed = problems.length > 0;
  const summary = failed
    ? problems.join('; ')
    : reports.map((r) => `pair ${r.pair}: ${r.checks.join(', ')}`).join('; ');
  return {
    status: {
      time: o.time,
      result: failed ? 'Failed' : 'Succeeded',
      entriesReplayed: reports.reduce((a, r) => a + r.entriesReplayed, 0),
      durationSeconds: Math.ceil(Math.max(0, ...reports.map((r) => r.durationSeconds))),
      backups: reports.filter((r) => r.backup !== null).map((r) => `${r.pair}/${r.backup}`),
      message: summary.length > MAX_MESSAGE ? `${summary.slice(0, MAX_MESSAGE - 1)}…` : summary,
    },
    ...(reason ? { reason } : {}),
    sequences: new Map(reports.flatMap((r) => (r.sequence === null ? [] : [[r.pair, r.sequence]]))),
  };
}

const cond = (ok: boolean | 'Unknown', reason: string, message: string): ConditionInput => ({
  type: 'BackupVerified',
  status: ok === 'Unknown' ? 'Unknown' : ok ? 'True' : 'False',
  reason,
  message,
});

/**
 * BackupVerified; undefined without spec.backup.verify. `live` is each pair's durable WAL
 * sequence as its engine last reported it (status.pairs[].walEntries): an engine behind the
 * backup it was drilled from has lost acknowledged records.
 */
export function backupVerifiedCondition(
  d: VelozDeployment,
  test: RestoreTest | undefined,
  live: ReadonlyMap<number, number | undefined>,
  nowMs: number,
): ConditionInput | undefined {
  const verify = d.spec.backup.verify;
  if (!verify) return undefined;
  if (verify.suspend)
    return cond('Unknown', 'Suspended', 'restore drills are suspended (spec.backup.verify.suspend)');
  if (!test) return cond('Unknown', 'NoDrillYet', 'no restore drill has finished yet');
  const t = test.status;
  if (t.result === 'Failed')
    return cond(false, test.reason ?? 'DrillFailed', t.message ?? 'the restore drill failed');
  for (const [pair, seq] of test.sequences) {
    const at = live.get(pair);
    if (at !== undefined && at < seq) {
      return cond(
        false,
        'LiveEngineBehind',
        `engine ${pair} reports WAL sequence ${at}, before the ${seq} its newest backup held when drilled at ${t.time}: acknowledged records are missing on the engine (docs/runbooks/alerts.md#velozrestoredrillfailed)`,
      );
    }
  }
  // The same threshold as alert VelozRestoreDrillStale: two of the longest gaps of the schedule.
  const gap = maxGapSeconds(verify.schedule, d.spec.backup.timeZone);
  if (gap !== undefined && t.time && nowMs - Date.parse(t.time) > 2 * gap * 1000) {
    return cond(
      false,
      'DrillStale',
      `the last restore drill (${t.time}) is older than two runs of spec.backup.verify.schedule (${(2 * gap) / 3600} h)`,
    );
  }
  return cond(true, 'DrillSucceeded', `restore drill at ${t.time}: ${t.message ?? ''}`.slice(0, MAX_MESSAGE));
}
