// `veloz backup` and `veloz restore`. Every flag can also come from a VELOZ_* variable (the flag
// wins); bad input exits 2 naming the flag, any failure exits 1 with the reason.
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { parse, UsageError } from '@veloz/common/args';
import { splitTokens } from '@veloz/common/tokens';
import { restoreFromPostgres } from './shipping/postgres-restore.ts';
import { runBackup } from './backup.ts';
import { applyRetention } from './retention.ts';
import { runDrill } from './drill.ts';
import type { Replayer } from './manifest.ts';
import { restoreFromStore, type RestoreResult, type Target } from './restore.ts';
import { prepareTarget } from './target.ts';
import { FsStore, S3Store, parseS3Url, type Store } from './store.ts';

export const DEFAULT_POSTGRES_URI_FILE = '/var/run/secrets/veloz/postgres/uri';

const S3_HELP = `S3-compatible destinations (s3://bucket/prefix):
  --s3-endpoint URL     endpoint of an S3-compatible server (VELOZ_S3_ENDPOINT, else
                        AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL; AWS when absent)
  --s3-region R         region (VELOZ_S3_REGION, else AWS_REGION; us-east-1 with an endpoint)
  --s3-path-style B     path-style addressing, true or false (VELOZ_S3_PATH_STYLE; default:
                        true with an endpoint)
  Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the SDK's default chain.`;

export const BACKUP_HELP = `Usage: veloz backup --engine-url URL --deployment D --pair N --dest PATH|s3://bucket/prefix
                    [--retention-days N] [options]

Takes a consistent backup of one engine's WAL (GET /api/wal/backup), verifies every record's
checksum and sequence while receiving it, and stores it with a manifest under
<dest>/<deployment>/<pair>/<time>-<sequence>/. Only bytes the destination does not hold yet are
sent (sealed segments once, the current segment's growth). The manifest is written last: a
backup that fails part-way is never complete. Exit 0 on success, 1 on failure, 2 on bad input.

Options:
  --engine-url URL      the engine's HTTP address (VELOZ_BACKUP_ENGINE_URL)
  --deployment D        deployment name (VELOZ_DEPLOYMENT_NAME)
  --pair N              pair index (VELOZ_PAIR_INDEX)
  --dest DEST           a directory (a mounted volume) or s3://bucket/prefix (VELOZ_BACKUP_DEST)
  --retention-days N    afterwards delete backups older than N days, never the newest complete
                        one (VELOZ_BACKUP_RETENTION_DAYS; no retention when absent)
  --timeout-seconds S   give up when the engine sends nothing for S seconds (VELOZ_BACKUP_TIMEOUT_SECONDS, 60)
  --force               store the backup although the engine's identity does not match
                        (VELOZ_BACKUP_FORCE): without it the backup is refused when the engine
                        says it is another deployment or pair, holds another WAL (WAL id) than
                        the newest backup, or ends before the sequence that backup holds
                        (acknowledged records lost on the engine)
  -h, --help            show this help

The engine token of scope backup is read from VELOZ_ENGINE_TOKEN_BACKUP_FILE (a mounted Secret)
or VELOZ_ENGINE_TOKEN_BACKUP (the first of several, separated by commas or lines); without one
only an engine serving loopback clients answers.

${S3_HELP}`;

export const RESTORE_HELP = `Usage: veloz restore --from PATH|s3://bucket/prefix|postgres://... --deployment D --pair N --to DIR
                     [--up-to-sequence S | --up-to-time T] [--force | --if-empty] [options]

Picks the backup that holds the requested point (by default the newest backup), verifies every
part and record checksum, and writes a WAL directory the engine replays on start. --from may
name the backup root, a deployment's or a pair's directory. From PostgreSQL (WAL shipping), the
log is rebuilt from the newest checkpoint at or before the target.
Exit 0 on success, 1 on failure, 2 on bad input.

Options:
  --from SRC              backup location (VELOZ_RESTORE_FROM)
  --deployment D          deployment name (VELOZ_DEPLOYMENT_NAME)
  --pair N                pair index (VELOZ_PAIR_INDEX)
  --to DIR                WAL directory to create (VELOZ_RESTORE_TO)
  --pair-sources LIST     the backup pair each pair index restores, e.g. 2,0,1: pair N
                          restores the Nth entry instead of its own index
                          (VELOZ_RESTORE_PAIR_SOURCES; spec.restore.fromBackup.pairSources)
  --up-to-sequence S      restore records up to sequence S (VELOZ_RESTORE_UP_TO_SEQUENCE)
  --up-to-time T          restore records written at or before T, RFC 3339 (VELOZ_RESTORE_UP_TO_TIME)
  --force                 empty a non-empty --to first, and restore a backup whose engine said
                          it was another deployment or pair (VELOZ_RESTORE_FORCE); without it
                          that backup is refused
  --if-empty              do nothing (exit 0) when --to already holds a WAL, e.g. in an init
                          container on a pod restart (VELOZ_RESTORE_IF_EMPTY); a --to with
                          files but no WAL is restored into, and the files are named
  Holds a WAL: a segment (orders_current.wal, orders_<n>.wal) with a valid record, or with
  damage that strict recovery refuses. Segments without a record are moved to quarantine/.
  --source-deployment D   the deployment whose backups or PostgreSQL table to read, when it is
                          not --deployment (VELOZ_RESTORE_SOURCE_DEPLOYMENT)
  --postgres-uri-file F   connection URI for postgres:// without a host (VELOZ_WAL_POSTGRES_URI_FILE,
                          default ${DEFAULT_POSTGRES_URI_FILE})
  -h, --help              show this help

Restore drill (--drill): restores the newest backup of the pair into scratch space (--to, else
the system's temporary directory; emptied afterwards, never an engine's WAL), replays it with the
engine's own recovery, and compares the sequence and the order-state digest with the backup's
manifest (a backup from before drills records no digest: then only the sequence, and it says so).
With --engine-url it also reads the live engine's GET /api/wal/status (admin token from
VELOZ_ENGINE_TOKEN_ADMIN_FILE or VELOZ_ENGINE_TOKEN_ADMIN): same WAL id, and the engine not behind
the backup. Prints one JSON line (result Succeeded or Failed, reason, backup, sequence,
entriesReplayed, digest, durationSeconds, checks); exit 0 when it succeeded, 1 when it failed.
  --drill                 run a restore drill (VELOZ_RESTORE_DRILL)
  --engine-url URL        the live engine to compare with (VELOZ_DRILL_ENGINE_URL); not compared
                          when absent or when it does not answer (the checks say so)
  --max-backup-age-seconds S
                          fail when the newest backup is older (VELOZ_DRILL_MAX_BACKUP_AGE_SECONDS;
                          the CronJob sets one backup interval)
  --report-file F         also write the JSON there (VELOZ_DRILL_REPORT_FILE; the CronJob uses
                          /dev/termination-log, which the operator reads)

${S3_HELP}`;

/** What the engine package lends these commands (it depends on this one, not the reverse). */
export interface CommandDeps {
  /** The engine's replay (@veloz/engine/engine/state-digest replayWal). */
  replay?: Replayer;
}

type Env = Record<string, string | undefined>;

const S3_FLAGS = {
  's3-endpoint': { type: 'string' },
  's3-region': { type: 'string' },
  's3-path-style': { type: 'string' },
} as const;

/** The flag's value, else the first variable that is set. */
function pick(flag: string | undefined, env: Env, ...names: string[]): string | undefined {
  if (flag !== undefined) return flag;
  for (const n of names) if (env[n] !== undefined && env[n] !== '') return env[n];
  return undefined;
}

function required(flag: string, v: string | undefined, envName: string): string {
  if (v === undefined || v === '') throw new UsageError(`missing --${flag} (or ${envName})`);
  return v;
}

function integer(flag: string, v: string, min: number): number {
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v)) || Number(v) < min) {
    throw new UsageError(`--${flag} must be an integer >= ${min}, got "${v}"`);
  }
  return Number(v);
}

function bool(flag: string, v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  throw new UsageError(`--${flag} must be true or false, got "${v}"`);
}

const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function deploymentName(flag: string, v: string): string {
  if (!NAME.test(v))
    throw new UsageError(`--${flag} must be a Kubernetes object name (a-z, 0-9, -), got "${v}"`);
  return v;
}

/** --deployment and --pair (or VELOZ_DEPLOYMENT_NAME / VELOZ_PAIR_INDEX), shared by backup and restore. */
function deploymentAndPair(
  values: { deployment?: string; pair?: string },
  env: Env,
): { deployment: string; pair: number } {
  return {
    deployment: deploymentName(
      'deployment',
      required('deployment', pick(values.deployment, env, 'VELOZ_DEPLOYMENT_NAME'), 'VELOZ_DEPLOYMENT_NAME'),
    ),
    pair: integer(
      'pair',
      required('pair', pick(values.pair, env, 'VELOZ_PAIR_INDEX'), 'VELOZ_PAIR_INDEX'),
      0,
    ),
  };
}

function s3Store(url: string, values: { [K in keyof typeof S3_FLAGS]?: string }, env: Env): S3Store {
  let loc;
  try {
    loc = parseS3Url(url);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const endpoint = pick(
    values['s3-endpoint'],
    env,
    'VELOZ_S3_ENDPOINT',
    'AWS_ENDPOINT_URL_S3',
    'AWS_ENDPOINT_URL',
  );
  if (endpoint !== undefined && !/^https?:\/\/\S+$/.test(endpoint)) {
    throw new UsageError(`--s3-endpoint must be an http(s):// URL, got "${endpoint}"`);
  }
  const region = pick(values['s3-region'], env, 'VELOZ_S3_REGION', 'AWS_REGION', 'AWS_DEFAULT_REGION');
  const pathStyle = bool('s3-path-style', pick(values['s3-path-style'], env, 'VELOZ_S3_PATH_STYLE'));
  return new S3Store({
    ...loc,
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    ...(pathStyle !== undefined ? { forcePathStyle: pathStyle } : {}),
  });
}

function openStore(
  flag: string,
  dest: string,
  values: { [K in keyof typeof S3_FLAGS]?: string },
  env: Env,
): Store {
  if (dest.startsWith('s3://')) return s3Store(dest, values, env);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dest)) {
    throw new UsageError(`--${flag} must be a directory or s3://bucket/prefix, got "${dest}"`);
  }
  return new FsStore(dest);
}

function close(store: Store): void {
  if (store instanceof S3Store) store.destroy();
}

/** The engine token the backup job sends (ADR 14): the first of its file's, else of the variable's. */
function backupToken(env: Env): string | undefined {
  return engineToken(env, 'BACKUP');
}

function say(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

export async function backupCommand(
  argv: string[],
  env: Env = process.env,
  deps: CommandDeps = {},
): Promise<number> {
  const { values } = parse(argv, {
    'engine-url': { type: 'string' },
    deployment: { type: 'string' },
    pair: { type: 'string' },
    dest: { type: 'string' },
    'retention-days': { type: 'string' },
    'timeout-seconds': { type: 'string' },
    force: { type: 'boolean' },
    ...S3_FLAGS,
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(BACKUP_HELP);
    return 0;
  }
  const engineUrl = required(
    'engine-url',
    pick(values['engine-url'], env, 'VELOZ_BACKUP_ENGINE_URL'),
    'VELOZ_BACKUP_ENGINE_URL',
  );
  if (!/^https?:\/\/\S+$/.test(engineUrl))
    throw new UsageError(`--engine-url must be an http(s):// URL, got "${engineUrl}"`);
  const { deployment, pair } = deploymentAndPair(values, env);
  const dest = required('dest', pick(values.dest, env, 'VELOZ_BACKUP_DEST'), 'VELOZ_BACKUP_DEST');
  const days = pick(values['retention-days'], env, 'VELOZ_BACKUP_RETENTION_DAYS');
  const retentionDays = days === undefined ? undefined : integer('retention-days', days, 0);
  const timeout = integer(
    'timeout-seconds',
    pick(values['timeout-seconds'], env, 'VELOZ_BACKUP_TIMEOUT_SECONDS') ?? '60',
    1,
  );
  const force = values.force ?? bool('force', env['VELOZ_BACKUP_FORCE']) ?? false;
  const store = openStore('dest', dest, values, env);
  try {
    const t0 = performance.now();
    const token = backupToken(env);
    const r = await runBackup({
      engineUrl,
      deployment,
      pair,
      store,
      timeoutMs: timeout * 1000,
      log: say,
      force,
      ...(token ? { token } : {}),
      ...(deps.replay ? { replay: deps.replay } : {}),
    });
    const retention =
      retentionDays === undefined
        ? undefined
        : await applyRetention({ store, deployment, pair, retentionDays, log: say });
    const m = r.manifest;
    console.log(
      JSON.stringify({
        result: 'complete',
        backup: `${store.location.replace(/\/$/, '')}/${r.key.replace(/\/manifest\.json$/, '')}`,
        deployment,
        pair,
        sequence: m.sequence,
        firstSequence: m.firstSequence,
        lastSequence: m.lastSequence,
        bytes: m.bytes,
        sentBytes: m.sentBytes,
        sentFiles: r.sentFiles,
        ...(m.state ? { stateDigest: m.state.digest } : {}),
        seconds: Number(((performance.now() - t0) / 1000).toFixed(3)),
        ...(retention ? { retention } : {}),
      }),
    );
    return 0;
  } finally {
    close(store);
  }
}

function parseTime(v: string): number {
  // RFC 3339 with a zone, e.g. 2026-02-12T20:18:48Z or 2026-02-12T21:18:48.5+01:00.
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(v) ||
    Number.isNaN(Date.parse(v))
  ) {
    throw new UsageError(`--up-to-time must be an RFC 3339 time such as 2026-02-12T20:18:48Z, got "${v}"`);
  }
  return Date.parse(v);
}

async function postgresUri(from: string, file: string): Promise<string> {
  let u: URL;
  try {
    u = new URL(from);
  } catch {
    throw new UsageError(`--from is not a valid postgres:// URL`);
  }
  if (u.hostname) return from;
  // postgres:// alone: the URI is in the mounted Secret (wal.postgres), not on the command line.
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    throw new Error(
      `--from ${from} names no server and the URI file ${file} cannot be read: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** The backup pair pair `index` restores: its own, or its entry of --pair-sources. */
export function pairSource(list: string | undefined, index: number): number {
  if (list === undefined) return index;
  const sources = list.split(',').map((p) => integer('pair-sources', p.trim(), 0));
  const source = sources[index];
  if (source === undefined)
    throw new UsageError(`--pair-sources ${list} has no entry for pair ${index} (it has ${sources.length})`);
  return source;
}

/** The first engine token of a scope, from its file (a mounted Secret) or its variable. */
function engineToken(env: Env, scope: 'BACKUP' | 'ADMIN'): string | undefined {
  const file = env[`VELOZ_ENGINE_TOKEN_${scope}_FILE`];
  if (file) {
    try {
      return splitTokens(readFileSync(file, 'utf8'))[0];
    } catch (err) {
      throw new UsageError(
        `VELOZ_ENGINE_TOKEN_${scope}_FILE=${JSON.stringify(file)} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
  }
  return splitTokens(env[`VELOZ_ENGINE_TOKEN_${scope}`])[0];
}

export async function restoreCommand(
  argv: string[],
  env: Env = process.env,
  deps: CommandDeps = {},
): Promise<number> {
  const { values } = parse(argv, {
    drill: { type: 'boolean' },
    'engine-url': { type: 'string' },
    'max-backup-age-seconds': { type: 'string' },
    'report-file': { type: 'string' },
    from: { type: 'string' },
    deployment: { type: 'string' },
    pair: { type: 'string' },
    to: { type: 'string' },
    'up-to-sequence': { type: 'string' },
    'up-to-time': { type: 'string' },
    force: { type: 'boolean' },
    'if-empty': { type: 'boolean' },
    'pair-sources': { type: 'string' },
    'source-deployment': { type: 'string' },
    'postgres-uri-file': { type: 'string' },
    ...S3_FLAGS,
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(RESTORE_HELP);
    return 0;
  }
  const from = required('from', pick(values.from, env, 'VELOZ_RESTORE_FROM'), 'VELOZ_RESTORE_FROM');
  const { deployment, pair: index } = deploymentAndPair(values, env);
  const pair = pairSource(pick(values['pair-sources'], env, 'VELOZ_RESTORE_PAIR_SOURCES'), index);
  if (values.drill ?? bool('drill', env['VELOZ_RESTORE_DRILL']) ?? false) {
    return drillCommand(values, env, deps, from, deployment, pair);
  }
  const to = required('to', pick(values.to, env, 'VELOZ_RESTORE_TO'), 'VELOZ_RESTORE_TO');
  const seq = pick(values['up-to-sequence'], env, 'VELOZ_RESTORE_UP_TO_SEQUENCE');
  const time = pick(values['up-to-time'], env, 'VELOZ_RESTORE_UP_TO_TIME');
  if (seq !== undefined && time !== undefined)
    throw new UsageError('--up-to-sequence and --up-to-time cannot be combined');
  const target: Target = {};
  if (seq !== undefined) target.upToSequence = integer('up-to-sequence', seq, 1);
  if (time !== undefined) target.upToTime = parseTime(time);
  const force = values.force ?? bool('force', env['VELOZ_RESTORE_FORCE']) ?? false;
  const ifEmpty = values['if-empty'] ?? bool('if-empty', env['VELOZ_RESTORE_IF_EMPTY']) ?? false;
  if (force && ifEmpty) throw new UsageError('--force and --if-empty cannot be combined');
  const sourceDeployment = deploymentName(
    'source-deployment',
    pick(values['source-deployment'], env, 'VELOZ_RESTORE_SOURCE_DEPLOYMENT') ?? deployment,
  );
  const isPostgres = /^postgres(ql)?:\/\//.test(from);
  const store = isPostgres ? null : openStore('from', from, values, env);

  try {
    const prepared = await prepareTarget(to, force ? 'force' : ifEmpty ? 'if-empty' : 'refuse');
    if (!prepared.ready) {
      if (ifEmpty) {
        console.log(JSON.stringify({ result: 'skipped', reason: `${to} ${prepared.reason}`, to }));
        return 0;
      }
      throw new Error(
        `${to} is not empty (it ${prepared.reason}): refusing to overwrite it (use --force to replace it` +
          `${prepared.holdsWal ? '' : ', or --if-empty to restore beside what is not a WAL'})`,
      );
    }
    const stray =
      prepared.stray.length > 0 ? { strayFiles: prepared.stray, setAside: prepared.setAside } : {};
    if (prepared.stray.length > 0) {
      say(`${to} holds no WAL, restoring into it; found: ${prepared.stray.join(', ')}`);
      for (const p of prepared.setAside) say(`moved a segment without records to ${p}`);
    }
    let r: RestoreResult;
    if (store) {
      r = await restoreFromStore({ store, deployment: sourceDeployment, pair, to, target, log: say, force });
    } else {
      const file =
        pick(values['postgres-uri-file'], env, 'VELOZ_WAL_POSTGRES_URI_FILE') ?? DEFAULT_POSTGRES_URI_FILE;
      const uri = await postgresUri(from, file);
      r = await restoreFromPostgres({ uri, deployment: sourceDeployment, pair, to, target, log: say });
    }
    console.log(
      JSON.stringify({
        result: 'restored',
        to,
        ...stray,
        ...r,
        lastTime: r.lastTimestamp === null ? null : new Date(r.lastTimestamp).toISOString(),
      }),
    );
    return 0;
  } finally {
    if (store) close(store);
  }
}

async function drillCommand(
  values: {
    'engine-url'?: string;
    'max-backup-age-seconds'?: string;
    'report-file'?: string;
    to?: string;
    'up-to-sequence'?: string;
    'up-to-time'?: string;
    force?: boolean;
    'if-empty'?: boolean;
  } & { [K in keyof typeof S3_FLAGS]?: string },
  env: Env,
  deps: CommandDeps,
  from: string,
  deployment: string,
  pair: number,
): Promise<number> {
  for (const flag of ['up-to-sequence', 'up-to-time', 'force', 'if-empty'] as const) {
    if (values[flag] !== undefined)
      throw new UsageError(`--drill restores the newest backup: --${flag} cannot be combined with it`);
  }
  if (/^postgres(ql)?:\/\//.test(from))
    throw new UsageError('--drill needs a backup store (a directory or s3://), not postgres://');
  if (!deps.replay) throw new Error('--drill needs the engine: run it as `veloz restore --drill`');
  const engineUrl = pick(values['engine-url'], env, 'VELOZ_DRILL_ENGINE_URL');
  if (engineUrl !== undefined && !/^https?:\/\/\S+$/.test(engineUrl))
    throw new UsageError(`--engine-url must be an http(s):// URL, got "${engineUrl}"`);
  const maxAge = pick(values['max-backup-age-seconds'], env, 'VELOZ_DRILL_MAX_BACKUP_AGE_SECONDS');
  const reportFile = pick(values['report-file'], env, 'VELOZ_DRILL_REPORT_FILE');
  const scratch = pick(values.to, env, 'VELOZ_RESTORE_TO') ?? tmpdir();
  const token = engineUrl ? engineToken(env, 'ADMIN') : undefined;
  const store = openStore('from', from, values, env);
  try {
    const r = await runDrill({
      store,
      deployment,
      pair,
      scratch,
      replay: deps.replay,
      log: say,
      ...(engineUrl ? { engineUrl } : {}),
      ...(token ? { token } : {}),
      ...(maxAge !== undefined ? { maxBackupAgeSeconds: integer('max-backup-age-seconds', maxAge, 1) } : {}),
    });
    const line = JSON.stringify(r);
    console.log(line);
    if (reportFile) await writeFile(reportFile, line);
    return r.result === 'Succeeded' ? 0 : 1;
  } finally {
    close(store);
  }
}
