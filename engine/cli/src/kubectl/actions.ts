// The day-2 commands that change something: halt and resume trading on the engines, run a backup
// now (a Job from the desk's CronJob, as `kubectl create job --from=cronjob/...` makes), and read the
// gateways' API key.
import type { Halt } from '@veloz/api/http/contract';
import { names } from '@veloz/api/names';
import { ApiError, type KubeClient } from '@veloz/operator/kube/client';
import { RESOURCES, type KubernetesObject } from '@veloz/operator/kube/resources';
import {
  adminToken,
  type Desk,
  deskPods,
  engineAccess,
  engineGet,
  explain,
  podProblem,
  PluginError,
} from './desk-read.ts';

/** The pair indexes a command acts on: every pair, or the one --pair names (checked against spec.pairs). */
export function pairIndexes(d: Desk, pair: string | undefined): number[] {
  const n = d.spec.pairs;
  if (pair === undefined) return Array.from({ length: n }, (_, i) => i);
  const i = Number(pair);
  if (!/^\d+$/.test(pair) || i >= n)
    throw new PluginError(
      `--pair ${pair}: desk ${d.metadata.name} has ${n} pair${n === 1 ? '' : 's'} (0..${Math.max(0, n - 1)})`,
    );
  return [i];
}

export interface PairOutcome {
  pair: number;
  engine: string;
  ok: boolean;
  halted?: boolean;
  reason?: string;
  error?: string;
}

/** POST /api/trading/halt or /resume on each pair; every pair is tried, and each says how it went. */
export async function haltOrResume(
  c: KubeClient,
  d: Desk,
  action: 'halt' | 'resume',
  pairs: number[],
  reason: string,
): Promise<PairOutcome[]> {
  const ns = d.metadata.namespace;
  const x = d.metadata.name;
  if (pairs.length === 0) throw new PluginError(`desk ${ns}/${x} has no pairs (spec.pairs is 0)`);
  const access = engineAccess(c, await adminToken(c, ns, x));
  const pods = await deskPods(c, ns, x);
  return Promise.all(
    pairs.map(async (i): Promise<PairOutcome> => {
      const engine = names(x).enginePod(i);
      const problem = podProblem(pods, engine);
      if (problem) return { pair: i, engine, ok: false, error: `not reachable: ${problem}` };
      try {
        const r = await engineGet<Halt>(access, ns, engine, `/api/trading/${action}`, 'POST', { reason });
        return { pair: i, engine, ok: true, halted: r.halted, reason: r.reason };
      } catch (err) {
        return { pair: i, engine, ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
}

/** The gateways' API key: the user's Secret (spec.gateway.apiKeySecretRef) or the generated one. */
export async function apiKey(c: KubeClient, d: Desk): Promise<string> {
  const ns = d.metadata.namespace;
  const ref = d.spec.gateway.apiKeySecretRef ?? { name: names(d.metadata.name).apiKeySecret, key: 'apiKey' };
  let s: { data?: Record<string, string> } | undefined;
  try {
    s = await c.find<{ data?: Record<string, string> }>(RESOURCES.secret, ns, ref.name);
  } catch (err) {
    throw explain(err, `read Secret ${ns}/${ref.name}`);
  }
  if (!s) throw new PluginError(`Secret ${ns}/${ref.name} does not exist (the operator creates it)`);
  const v = s.data?.[ref.key];
  if (v === undefined) throw new PluginError(`Secret ${ns}/${ref.name} has no key "${ref.key}"`);
  return Buffer.from(v, 'base64').toString('utf8').trim();
}

interface CronJob extends KubernetesObject {
  spec: { jobTemplate: { metadata?: KubernetesObject['metadata']; spec: unknown } };
}

interface Job extends KubernetesObject {
  status?: {
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
  };
}

/** The Job that `kubectl create job --from=cronjob/CJ` would make, owned by the CronJob. */
export function jobFromCronJob(cj: CronJob, name: string): KubernetesObject {
  const m = cj.metadata ?? {};
  const t = cj.spec.jobTemplate.metadata ?? {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: m.namespace ?? '',
      labels: { ...t.labels },
      annotations: { ...t.annotations, 'cronjob.kubernetes.io/instantiate': 'manual' },
      // The operator's lastBackup counts the Jobs its CronJob owns: this one too.
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'CronJob', name: m.name ?? '', uid: m.uid ?? '', controller: true },
      ],
    },
    spec: cj.spec.jobTemplate.spec,
  };
}

export interface BackupResult {
  job: string;
  result: 'Succeeded' | 'Failed' | 'Started';
  message: string;
  seconds: number;
}

export function finished(j: Job): { result: 'Succeeded' | 'Failed'; message: string } | undefined {
  for (const c of j.status?.conditions ?? []) {
    if (c.status !== 'True') continue;
    if (c.type === 'Complete') return { result: 'Succeeded', message: c.message ?? '' };
    if (c.type === 'Failed') return { result: 'Failed', message: `${c.reason ?? ''}: ${c.message ?? ''}` };
  }
  return undefined;
}

export async function backupNow(
  c: KubeClient,
  d: Desk,
  opts: { wait: boolean; timeoutMs: number; pollMs?: number; now?: () => number },
): Promise<BackupResult> {
  const ns = d.metadata.namespace;
  const cjName = names(d.metadata.name).backupCronJob;
  const now = opts.now ?? Date.now;
  let cj: CronJob | undefined;
  try {
    cj = await c.find<CronJob>(RESOURCES.cronJob, ns, cjName);
  } catch (err) {
    throw explain(err, `read CronJob ${ns}/${cjName}`);
  }
  if (!cj)
    throw new PluginError(
      `desk ${ns}/${d.metadata.name} has no backup CronJob ${cjName} (the operator creates it; see spec.backup)`,
    );
  const t0 = now();
  const job = `${cjName}-manual-${t0.toString(36)}`.slice(0, 63);
  try {
    await c.create(RESOURCES.job, ns, jobFromCronJob(cj, job));
  } catch (err) {
    throw explain(err, `create Job ${ns}/${job}`);
  }
  if (!opts.wait) return { job, result: 'Started', message: '', seconds: 0 };
  for (;;) {
    let j: Job;
    try {
      j = await c.get<Job>(RESOURCES.job, ns, job);
    } catch (err) {
      throw explain(err, `read Job ${ns}/${job}`);
    }
    const done = finished(j);
    if (done) return { job, ...done, seconds: Math.round((now() - t0) / 1000) };
    if (now() - t0 > opts.timeoutMs)
      throw new PluginError(
        `backup Job ${ns}/${job} has not finished after ${Math.round(opts.timeoutMs / 1000)} s (it keeps running: kubectl -n ${ns} get job ${job})`,
      );
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 2000));
  }
}

/**
 * A pod's log as text. The client parses answers as JSON; the log endpoint answers plain text,
 * which the client hands back as the body of an InvalidResponse error (one JSON log line parses).
 */
export async function podLog(
  c: KubeClient,
  ns: string,
  pod: string,
  query: Record<string, string | number | boolean | undefined>,
): Promise<string> {
  try {
    const body = await c.request<unknown>('GET', `/api/v1/namespaces/${ns}/pods/${pod}/log`, {
      verb: 'get',
      kind: 'pods/log',
      query,
    });
    return body === undefined ? '' : `${JSON.stringify(body)}\n`;
  } catch (err) {
    if (err instanceof ApiError && err.reason === 'InvalidResponse' && typeof err.body === 'string')
      return err.body;
    throw explain(err, `read the log of pod ${ns}/${pod}`);
  }
}

/**
 * A new desk bootstrapped from DESK's backups (spec.restore.fromBackup): the same spec, reading
 * the backups where DESK writes them (its volume, or its bucket), up to a time when given.
 */
export function restoredDesk(d: Desk, to: string, upTo: string | undefined): KubernetesObject {
  const x = d.metadata.name;
  if (!/^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/.test(to))
    throw new PluginError(`--to ${to}: expected a lower-case DNS name of at most 42 characters`);
  if (to === x) throw new PluginError(`--to ${to}: the new desk needs a name of its own`);
  if (upTo !== undefined && Number.isNaN(Date.parse(upTo)))
    throw new PluginError(`--up-to ${upTo}: expected an RFC 3339 time such as 2026-01-02T15:04:05Z`);
  const dest = d.spec.backup.destination;
  const s3 = dest.s3;
  const source = s3 ? `s3://${s3.bucket}${s3.prefix ? `/${s3.prefix.replace(/^\/+/, '')}` : ''}` : '/backups';
  // The new desk mounts the same backups volume (the claim DESK's operator made or was given).
  const destination = s3 ? dest : { volume: { claimName: dest.volume?.claimName ?? names(x).backupsPvc } };
  const { restore: _old, ...spec } = d.spec;
  return {
    apiVersion: 'veloz.io/v1alpha1',
    kind: 'VelozDeployment',
    metadata: {
      name: to,
      namespace: d.metadata.namespace,
      annotations: { 'veloz.io/restored-from': `${x}${upTo ? ` up to ${upTo}` : ''}` },
    },
    spec: {
      ...spec,
      backup: { ...d.spec.backup, destination },
      // Each pair restores its own pair's backups: the backup holds as many pairs as DESK has.
      restore: {
        fromBackup: {
          source,
          deployment: x,
          ...(d.spec.pairs > 0 ? { backupPairs: d.spec.pairs } : {}),
          ...(upTo ? { upToTimestamp: upTo } : {}),
        },
      },
    },
  };
}

export async function restoreTo(c: KubeClient, d: Desk, to: string, upTo: string | undefined): Promise<void> {
  const obj = restoredDesk(d, to, upTo);
  try {
    await c.create(RESOURCES.velozDeployment, d.metadata.namespace, obj);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409)
      throw new PluginError(
        `desk ${d.metadata.namespace}/${to} already exists: restore only creates a new desk`,
      );
    throw explain(err, `create VelozDeployment ${d.metadata.namespace}/${to}`);
  }
}
